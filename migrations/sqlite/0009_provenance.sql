-- Provenance on every attempt (PROVIDERS.md §5): which configured provider served it and how,
-- what the model said about itself, and the SHA-256 of the exact request body sent, so that a
-- retry can be shown to have asked the same question the same way. `request_json` on an
-- attempt holds that body.
ALTER TABLE execution_attempts ADD COLUMN region TEXT;
ALTER TABLE execution_attempts ADD COLUMN provider_kind TEXT;
ALTER TABLE execution_attempts ADD COLUMN served_model TEXT;
ALTER TABLE execution_attempts ADD COLUMN finish_reason TEXT;
ALTER TABLE execution_attempts ADD COLUMN prompt_tokens BIGINT;
ALTER TABLE execution_attempts ADD COLUMN completion_tokens BIGINT;
ALTER TABLE execution_attempts ADD COLUMN system_fingerprint TEXT;
ALTER TABLE execution_attempts ADD COLUMN request_hash TEXT;
UPDATE execution_attempts SET region = (SELECT e.region FROM executions e WHERE e.id = execution_attempts.execution_id);
