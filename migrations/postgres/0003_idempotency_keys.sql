-- As migrations/sqlite/0003_idempotency_keys.sql.
CREATE TABLE idempotency_keys (
    key           TEXT NOT NULL,
    execution_id  BIGINT NOT NULL REFERENCES executions (id),
    status_code   BIGINT NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (key, execution_id)
);
