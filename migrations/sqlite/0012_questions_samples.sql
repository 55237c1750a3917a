-- no-transaction
-- Researchers' own studies (RESEARCH.md §1–§2): questions with tags and an in-use mark,
-- question sets (the eight built-in questions are `beacon-default`), job parameters, and a
-- cell that is (question, model, region, sample_index). Keep in step with
-- migrations/postgres/0012_questions_samples.sql.
--
-- The executions' uniqueness gains `sample_index`. SQLite cannot change a table's UNIQUE
-- constraint, so the table is rebuilt with its rows and ids (as in 0005: foreign keys off, one
-- transaction), and its indexes and triggers are created again after the copy, so the copy
-- neither logs changes nor counts rows a second time.
PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

-- Tags as a JSON array. `in_use` is set, in the job's own transaction, when a job first asks
-- the question: from then on the question never changes (reading it is one row, however many
-- executions exist).
ALTER TABLE questions ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE questions ADD COLUMN in_use INTEGER NOT NULL DEFAULT 0;
UPDATE questions SET in_use = 1 WHERE id IN (SELECT DISTINCT question_id FROM executions);

CREATE TABLE question_sets (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT
);

CREATE TABLE question_set_members (
    set_id      TEXT NOT NULL REFERENCES question_sets (id),
    question_id TEXT NOT NULL REFERENCES questions (id),
    -- The set's order, which a job built from it keeps.
    position    INTEGER NOT NULL,
    PRIMARY KEY (set_id, question_id)
);

CREATE INDEX question_set_members_question ON question_set_members (question_id);

INSERT INTO question_sets (id, name, created_at) VALUES ('beacon-default', 'Beacon''s eight built-in questions', 0);
INSERT INTO question_set_members (set_id, question_id, position)
    SELECT 'beacon-default', id, position FROM questions
    WHERE id IN ('math_basic', 'geography_basic', 'identity_basic', 'tiananmen_neutral', 'taiwan_status',
                 'hongkong_2019', 'greatest_invention', 'greatest_leader');

-- What the job asked for; older jobs have no record of their temperature and tokens (null).
ALTER TABLE jobs ADD COLUMN question_set TEXT;
ALTER TABLE jobs ADD COLUMN samples INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN temperature DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN max_tokens INTEGER;
ALTER TABLE jobs ADD COLUMN seed BIGINT;

CREATE TABLE executions_rebuilt (
    id                  INTEGER PRIMARY KEY,
    job_id              TEXT NOT NULL REFERENCES jobs (id),
    region              TEXT NOT NULL,
    model_id            TEXT NOT NULL,
    question_id         TEXT NOT NULL REFERENCES questions (id),
    question_index      INTEGER NOT NULL,
    sample_index        INTEGER NOT NULL DEFAULT 0,
    status              TEXT NOT NULL
                        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout',
                                          'error', 'retrying', 'cancelled')),
    provider_id         TEXT,
    output              TEXT,
    error               TEXT,
    error_code          TEXT,
    original_error      TEXT,
    original_error_code TEXT,
    retry_count         INTEGER NOT NULL DEFAULT 0,
    max_retries         INTEGER NOT NULL,
    last_retry_at       BIGINT,
    started_at          BIGINT,
    completed_at        BIGINT,
    duration_ms         BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    request_json        TEXT NOT NULL,
    lease_owner         TEXT,
    lease_expires_at    BIGINT,
    auto_retries        INTEGER NOT NULL DEFAULT 0,
    auto_retry_count    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     BIGINT,
    UNIQUE (job_id, region, model_id, question_id, sample_index)
);

INSERT INTO executions_rebuilt (id, job_id, region, model_id, question_id, question_index, sample_index, status,
        provider_id, output, error, error_code, original_error, original_error_code, retry_count, max_retries,
        last_retry_at, started_at, completed_at, duration_ms, created_at, updated_at, request_json, lease_owner,
        lease_expires_at, auto_retries, auto_retry_count, next_attempt_at)
    SELECT id, job_id, region, model_id, question_id, question_index, 0, status,
        provider_id, output, error, error_code, original_error, original_error_code, retry_count, max_retries,
        last_retry_at, started_at, completed_at, duration_ms, created_at, updated_at, request_json, lease_owner,
        lease_expires_at, auto_retries, auto_retry_count, next_attempt_at
    FROM executions;

DROP TABLE executions;
ALTER TABLE executions_rebuilt RENAME TO executions;

CREATE INDEX executions_job ON executions (job_id, region, model_id, question_index);
CREATE INDEX executions_claimable ON executions (status, region) WHERE lease_owner IS NULL;
CREATE INDEX executions_leases ON executions (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX executions_job_order ON executions (job_id, id);
-- Exports read a job question by question (RESEARCH.md §3's order).
CREATE INDEX executions_job_question ON executions (job_id, question_index);

CREATE TRIGGER executions_changed AFTER UPDATE OF updated_at ON executions
BEGIN
    INSERT INTO changes (job_id, execution_id) VALUES (NEW.job_id, NEW.id);
END;

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

COMMIT;

PRAGMA foreign_keys = ON;
