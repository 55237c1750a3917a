-- Warm-up (PROVIDERS.md §4): per job, one row per (provider, model) the job will use. While a
-- row is pending, or running under a live lease, that provider takes none of the job's rows of
-- that model; when it is ok or failed (or its lease ran out), work flows as usual.
CREATE TABLE warmups (
    id                BIGSERIAL PRIMARY KEY,
    job_id            TEXT NOT NULL REFERENCES jobs (id),
    provider_id       TEXT NOT NULL,
    region            TEXT NOT NULL,
    model_id          TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'running', 'ok', 'failed')),
    requests          INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    started_at        BIGINT,
    finished_at       BIGINT,
    duration_ms       BIGINT,
    lease_expires_at  BIGINT,
    UNIQUE (job_id, provider_id, model_id)
);

CREATE INDEX warmups_waiting ON warmups (provider_id, status);
-- 1 when the job asked for warm-up.
ALTER TABLE jobs ADD COLUMN warmup INTEGER NOT NULL DEFAULT 0;
