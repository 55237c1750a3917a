-- Beacon's schema. Times are milliseconds since the Unix epoch (BIGINT), so the same
-- statements run on SQLite and PostgreSQL and sort without time-zone surprises.

CREATE TABLE questions (
    id          TEXT PRIMARY KEY,
    category    TEXT NOT NULL,
    text        TEXT NOT NULL,
    -- Catalogue order, for forms and listings.
    position    INTEGER NOT NULL
);

CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    -- Ordered JSON arrays: a question's index in `questions` is its `question_index`.
    questions   TEXT NOT NULL,
    models      TEXT NOT NULL,
    regions     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX jobs_created_at ON jobs (created_at);

CREATE TABLE executions (
    id                  INTEGER PRIMARY KEY,
    job_id              TEXT NOT NULL REFERENCES jobs (id),
    region              TEXT NOT NULL,
    model_id            TEXT NOT NULL,
    question_id         TEXT NOT NULL REFERENCES questions (id),
    question_index      INTEGER NOT NULL,
    status              TEXT NOT NULL,
    provider_id         TEXT,
    output              TEXT,
    error               TEXT,
    error_code          TEXT,
    -- The first failure, written once and never overwritten.
    original_error      TEXT,
    original_error_code TEXT,
    retry_count         INTEGER NOT NULL DEFAULT 0,
    max_retries         INTEGER NOT NULL,
    last_retry_at       BIGINT,
    started_at          BIGINT,
    completed_at        BIGINT,
    -- How long the latest finished attempt took.
    duration_ms         BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    -- The exact router request, fixed at submission so every attempt sends the same bytes.
    request_json        TEXT NOT NULL,
    -- Who is running this row right now, and until when; NULL when nobody is.
    lease_owner         TEXT,
    lease_expires_at    BIGINT,
    UNIQUE (job_id, region, model_id, question_id)
);

CREATE INDEX executions_job ON executions (job_id, region, model_id, question_index);
CREATE INDEX executions_claimable ON executions (status, region) WHERE lease_owner IS NULL;
CREATE INDEX executions_leases ON executions (lease_expires_at) WHERE lease_owner IS NOT NULL;

CREATE TABLE execution_attempts (
    id              INTEGER PRIMARY KEY,
    execution_id    INTEGER NOT NULL REFERENCES executions (id),
    number          INTEGER NOT NULL,
    -- initial | manual | batch | auto
    trigger         TEXT NOT NULL,
    -- queued | running | completed | failed | timeout | error | interrupted | cancelled
    status          TEXT NOT NULL,
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
