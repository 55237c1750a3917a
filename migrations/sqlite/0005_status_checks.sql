-- no-transaction
-- The stored spellings of statuses and triggers are the domain's enums (src/domain/status.rs);
-- the database refuses any other, whoever writes. Keep in step with
-- migrations/postgres/0005_status_checks.sql. Regions and models are not listed here: they
-- become configuration, not schema.
--
-- SQLite cannot add a CHECK to an existing table, so the three tables are rebuilt with their
-- rows, ids included (SQLite's documented procedure for schema changes: foreign keys off,
-- one transaction). The rebuilt tables keep their names, columns, indexes and change-log
-- triggers; rows that reference each other are copied as they are.
PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

CREATE TABLE jobs_rebuilt (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL
                CHECK (status IN ('enqueued', 'running', 'completed', 'failed', 'cancelled')),
    questions   TEXT NOT NULL,
    models      TEXT NOT NULL,
    regions     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
INSERT INTO jobs_rebuilt (id, status, questions, models, regions, created_at, updated_at)
    SELECT id, status, questions, models, regions, created_at, updated_at FROM jobs;

CREATE TABLE executions_rebuilt (
    id                  INTEGER PRIMARY KEY,
    job_id              TEXT NOT NULL REFERENCES jobs (id),
    region              TEXT NOT NULL,
    model_id            TEXT NOT NULL,
    question_id         TEXT NOT NULL REFERENCES questions (id),
    question_index      INTEGER NOT NULL,
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
    UNIQUE (job_id, region, model_id, question_id)
);
INSERT INTO executions_rebuilt
    SELECT id, job_id, region, model_id, question_id, question_index, status, provider_id,
           output, error, error_code, original_error, original_error_code, retry_count,
           max_retries, last_retry_at, started_at, completed_at, duration_ms, created_at,
           updated_at, request_json, lease_owner, lease_expires_at
      FROM executions;

CREATE TABLE execution_attempts_rebuilt (
    id              INTEGER PRIMARY KEY,
    execution_id    INTEGER NOT NULL REFERENCES executions (id),
    number          INTEGER NOT NULL,
    trigger         TEXT NOT NULL CHECK (trigger IN ('initial', 'manual', 'batch', 'auto')),
    status          TEXT NOT NULL
                    CHECK (status IN ('queued', 'running', 'completed', 'failed', 'timeout',
                                      'error', 'interrupted', 'cancelled')),
    error_code      TEXT,
    error           TEXT,
    provider_id     TEXT,
    request_json    TEXT NOT NULL,
    queued_at       BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT,
    duration_ms     BIGINT,
    UNIQUE (execution_id, number)
);
INSERT INTO execution_attempts_rebuilt
    SELECT id, execution_id, number, trigger, status, error_code, error, provider_id,
           request_json, queued_at, started_at, finished_at, duration_ms
      FROM execution_attempts;

DROP TABLE execution_attempts;
DROP TABLE executions;
DROP TABLE jobs;
ALTER TABLE jobs_rebuilt RENAME TO jobs;
ALTER TABLE executions_rebuilt RENAME TO executions;
ALTER TABLE execution_attempts_rebuilt RENAME TO execution_attempts;

CREATE INDEX jobs_created_at ON jobs (created_at);
CREATE INDEX executions_job ON executions (job_id, region, model_id, question_index);
CREATE INDEX executions_claimable ON executions (status, region) WHERE lease_owner IS NULL;
CREATE INDEX executions_leases ON executions (lease_expires_at) WHERE lease_owner IS NOT NULL;

CREATE TRIGGER executions_changed AFTER UPDATE OF updated_at ON executions
BEGIN
    INSERT INTO changes (job_id, execution_id) VALUES (NEW.job_id, NEW.id);
END;

CREATE TRIGGER jobs_changed AFTER UPDATE OF status ON jobs
WHEN OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO changes (job_id, execution_id) VALUES (NEW.id, NULL);
END;

COMMIT;

PRAGMA foreign_keys = ON;
