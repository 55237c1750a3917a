-- Automatic retries (PROVIDERS.md §3): a job's budget of automatic retries per attempt chain,
-- how many the current chain has used, and when the next automatic attempt may start. They
-- never touch `retry_count`, which counts manual and batch retries only.
ALTER TABLE executions ADD COLUMN auto_retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN auto_retry_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE jobs ADD COLUMN auto_retries INTEGER NOT NULL DEFAULT 0;
-- How long an automatic attempt waited before it started.
ALTER TABLE execution_attempts ADD COLUMN backoff_ms BIGINT;
