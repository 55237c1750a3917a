-- A job's progress counters, kept in step with its executions by triggers in the same
-- transaction as every execution change, whoever makes it: reading a job's progress (and
-- deriving its status) costs the same for 100 executions as for 30,000. The buckets are
-- `domain::Progress`'s: failed counts failed + timeout + error; exhausted counts failures with
-- no retries left. `beacon check` recounts from the executions and repairs any drift.
-- Keep in step with migrations/postgres/0006_job_counters.sql.
ALTER TABLE jobs ADD COLUMN pending   BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN running   BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN retrying  BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN completed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN failed    BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN cancelled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN exhausted BIGINT NOT NULL DEFAULT 0;

UPDATE jobs SET
    pending   = (SELECT COUNT(*) FROM executions e WHERE e.job_id = jobs.id AND e.status = 'pending'),
    running   = (SELECT COUNT(*) FROM executions e WHERE e.job_id = jobs.id AND e.status = 'running'),
    retrying  = (SELECT COUNT(*) FROM executions e WHERE e.job_id = jobs.id AND e.status = 'retrying'),
    completed = (SELECT COUNT(*) FROM executions e WHERE e.job_id = jobs.id AND e.status = 'completed'),
    failed    = (SELECT COUNT(*) FROM executions e WHERE e.job_id = jobs.id AND e.status IN ('failed', 'timeout', 'error')),
    cancelled = (SELECT COUNT(*) FROM executions e WHERE e.job_id = jobs.id AND e.status = 'cancelled'),
    exhausted = (SELECT COUNT(*) FROM executions e WHERE e.job_id = jobs.id AND e.status IN ('failed', 'timeout', 'error')
                                                          AND e.retry_count >= e.max_retries);

CREATE TRIGGER executions_counted_on_insert AFTER INSERT ON executions
BEGIN
    UPDATE jobs SET
        pending   = pending   + (NEW.status = 'pending'),
        running   = running   + (NEW.status = 'running'),
        retrying  = retrying  + (NEW.status = 'retrying'),
        completed = completed + (NEW.status = 'completed'),
        failed    = failed    + (NEW.status IN ('failed', 'timeout', 'error')),
        cancelled = cancelled + (NEW.status = 'cancelled'),
        exhausted = exhausted + (NEW.status IN ('failed', 'timeout', 'error') AND NEW.retry_count >= NEW.max_retries)
    WHERE id = NEW.job_id;
END;

CREATE TRIGGER executions_counted_on_update AFTER UPDATE OF status, retry_count, max_retries ON executions
WHEN OLD.status IS NOT NEW.status OR OLD.retry_count IS NOT NEW.retry_count OR OLD.max_retries IS NOT NEW.max_retries
BEGIN
    UPDATE jobs SET
        pending   = pending   + (NEW.status = 'pending')   - (OLD.status = 'pending'),
        running   = running   + (NEW.status = 'running')   - (OLD.status = 'running'),
        retrying  = retrying  + (NEW.status = 'retrying')  - (OLD.status = 'retrying'),
        completed = completed + (NEW.status = 'completed') - (OLD.status = 'completed'),
        failed    = failed    + (NEW.status IN ('failed', 'timeout', 'error')) - (OLD.status IN ('failed', 'timeout', 'error')),
        cancelled = cancelled + (NEW.status = 'cancelled') - (OLD.status = 'cancelled'),
        exhausted = exhausted
                    + (NEW.status IN ('failed', 'timeout', 'error') AND NEW.retry_count >= NEW.max_retries)
                    - (OLD.status IN ('failed', 'timeout', 'error') AND OLD.retry_count >= OLD.max_retries)
    WHERE id = NEW.job_id;
END;

CREATE TRIGGER executions_counted_on_delete AFTER DELETE ON executions
BEGIN
    UPDATE jobs SET
        pending   = pending   - (OLD.status = 'pending'),
        running   = running   - (OLD.status = 'running'),
        retrying  = retrying  - (OLD.status = 'retrying'),
        completed = completed - (OLD.status = 'completed'),
        failed    = failed    - (OLD.status IN ('failed', 'timeout', 'error')),
        cancelled = cancelled - (OLD.status = 'cancelled'),
        exhausted = exhausted - (OLD.status IN ('failed', 'timeout', 'error') AND OLD.retry_count >= OLD.max_retries)
    WHERE id = OLD.job_id;
END;
