-- The first answer to a retry request carrying an Idempotency-Key, replayed verbatim for the
-- same key on the same execution.
CREATE TABLE idempotency_keys (
    key           TEXT NOT NULL,
    execution_id  INTEGER NOT NULL REFERENCES executions (id),
    status_code   INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (key, execution_id)
);
