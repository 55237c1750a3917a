-- The stored spellings of statuses and triggers are the domain's enums (src/domain/status.rs);
-- the database refuses any other, whoever writes. Keep in step with
-- migrations/sqlite/0005_status_checks.sql. Regions and models are not listed here: they
-- become configuration, not schema.
ALTER TABLE jobs ADD CONSTRAINT jobs_status_known
    CHECK (status IN ('enqueued', 'running', 'completed', 'failed', 'cancelled'));

ALTER TABLE executions ADD CONSTRAINT executions_status_known
    CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout', 'error', 'retrying', 'cancelled'));

ALTER TABLE execution_attempts ADD CONSTRAINT execution_attempts_trigger_known
    CHECK (trigger IN ('initial', 'manual', 'batch', 'auto'));

ALTER TABLE execution_attempts ADD CONSTRAINT execution_attempts_status_known
    CHECK (status IN ('queued', 'running', 'completed', 'failed', 'timeout', 'error', 'interrupted', 'cancelled'));
