-- Accounts (SAFETY.md §1): users with Argon2 password hashes, API tokens and browser sessions
-- stored only as SHA-256 hashes, and failed logins for throttling. Sessions and failures are
-- in the database so every instance shares them.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('viewer', 'researcher', 'admin')),
    password_hash   TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The token's first characters, shown in lists and used to revoke it.
    prefix          TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    label           TEXT,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);

CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE login_failures (
    id              INTEGER PRIMARY KEY,
    user_name       TEXT NOT NULL,
    address         TEXT NOT NULL,
    at              BIGINT NOT NULL
);

CREATE INDEX login_failures_at ON login_failures (at);

-- Attribution: who started a job, who asked for a manual or batch attempt (NULL with auth off).
ALTER TABLE jobs ADD COLUMN created_by TEXT;
ALTER TABLE execution_attempts ADD COLUMN requested_by TEXT;

-- An answer that arrived after its execution was cancelled or swept is kept on its attempt
-- (SAFETY.md §5); the execution's own status is not changed by it.
ALTER TABLE execution_attempts ADD COLUMN output TEXT;
-- When that late answer arrived (NULL: the answer, if any, was on time).
ALTER TABLE execution_attempts ADD COLUMN late_at BIGINT;

-- Idempotency keys expire after 24 hours.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
