-- Every change to an execution (anything that moves its updated_at) and every job status
-- change appends a row here. `seq` orders all changes; it is the live stream's event id, so a
-- client that reconnects with Last-Event-ID gets exactly what it missed. Written by
-- triggers, so no code path that changes an execution can forget to announce it. Old rows
-- are pruned; a client whose cursor is older than the oldest row gets a fresh snapshot.
CREATE TABLE changes (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id        TEXT NOT NULL,
    -- NULL for a change of the job itself.
    execution_id  INTEGER
);

CREATE INDEX changes_job ON changes (job_id, seq);

CREATE TRIGGER executions_changed AFTER UPDATE OF updated_at ON executions
BEGIN
    INSERT INTO changes (job_id, execution_id) VALUES (NEW.job_id, NEW.id);
END;

CREATE TRIGGER jobs_changed AFTER UPDATE OF status ON jobs
WHEN OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO changes (job_id, execution_id) VALUES (NEW.id, NULL);
END;
