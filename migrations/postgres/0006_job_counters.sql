-- As migrations/sqlite/0006_job_counters.sql: a job's progress counters, kept in step with its
-- executions in the same transaction as every change. On PostgreSQL the triggers run once per
-- statement over its transition tables, so a 30,000-row insert (or a cancel of thousands of
-- rows) updates the job row once, not 30,000 times.
ALTER TABLE jobs
    ADD COLUMN pending   BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN running   BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN retrying  BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN completed BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN failed    BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cancelled BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN exhausted BIGINT NOT NULL DEFAULT 0;

-- One row's contribution to its job's counters: +1 in its bucket (sign -1 to take it away).
CREATE FUNCTION execution_counts(sign BIGINT, status TEXT, retry_count BIGINT, max_retries BIGINT,
    OUT pending BIGINT, OUT running BIGINT, OUT retrying BIGINT, OUT completed BIGINT,
    OUT failed BIGINT, OUT cancelled BIGINT, OUT exhausted BIGINT)
LANGUAGE sql IMMUTABLE AS $$
    SELECT sign * (status = 'pending')::int, sign * (status = 'running')::int,
           sign * (status = 'retrying')::int, sign * (status = 'completed')::int,
           sign * (status IN ('failed', 'timeout', 'error'))::int, sign * (status = 'cancelled')::int,
           sign * (status IN ('failed', 'timeout', 'error') AND retry_count >= max_retries)::int
$$;

UPDATE jobs j SET pending = d.pending, running = d.running, retrying = d.retrying,
                  completed = d.completed, failed = d.failed, cancelled = d.cancelled,
                  exhausted = d.exhausted
  FROM (SELECT e.job_id, SUM(c.pending) AS pending, SUM(c.running) AS running,
               SUM(c.retrying) AS retrying, SUM(c.completed) AS completed, SUM(c.failed) AS failed,
               SUM(c.cancelled) AS cancelled, SUM(c.exhausted) AS exhausted
          FROM executions e, execution_counts(1, e.status, e.retry_count, e.max_retries) c
         GROUP BY e.job_id) d
 WHERE j.id = d.job_id;

-- Each trigger adds the summed contributions of the rows its statement changed. The update
-- trigger skips jobs whose counters do not move: a lease renewal touches executions but no
-- counter, and must not write (and lock) the job row.
CREATE FUNCTION count_inserted_executions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs j SET pending = j.pending + d.pending, running = j.running + d.running,
                      retrying = j.retrying + d.retrying, completed = j.completed + d.completed,
                      failed = j.failed + d.failed, cancelled = j.cancelled + d.cancelled,
                      exhausted = j.exhausted + d.exhausted
      FROM (SELECT n.job_id, SUM(c.pending) AS pending, SUM(c.running) AS running,
                   SUM(c.retrying) AS retrying, SUM(c.completed) AS completed,
                   SUM(c.failed) AS failed, SUM(c.cancelled) AS cancelled, SUM(c.exhausted) AS exhausted
              FROM inserted n, execution_counts(1, n.status, n.retry_count, n.max_retries) c
             GROUP BY n.job_id) d
     WHERE j.id = d.job_id;
    RETURN NULL;
END;
$$;

CREATE FUNCTION count_updated_executions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs j SET pending = j.pending + d.pending, running = j.running + d.running,
                      retrying = j.retrying + d.retrying, completed = j.completed + d.completed,
                      failed = j.failed + d.failed, cancelled = j.cancelled + d.cancelled,
                      exhausted = j.exhausted + d.exhausted
      FROM (SELECT x.job_id, SUM(c.pending) AS pending, SUM(c.running) AS running,
                   SUM(c.retrying) AS retrying, SUM(c.completed) AS completed,
                   SUM(c.failed) AS failed, SUM(c.cancelled) AS cancelled, SUM(c.exhausted) AS exhausted
              FROM (SELECT job_id, 1 AS sign, status, retry_count, max_retries FROM after_change
                    UNION ALL
                    SELECT job_id, -1, status, retry_count, max_retries FROM before_change) x,
                   execution_counts(x.sign, x.status, x.retry_count, x.max_retries) c
             GROUP BY x.job_id) d
     WHERE j.id = d.job_id
       AND (d.pending, d.running, d.retrying, d.completed, d.failed, d.cancelled, d.exhausted)
           <> (0, 0, 0, 0, 0, 0, 0);
    RETURN NULL;
END;
$$;

CREATE FUNCTION count_deleted_executions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs j SET pending = j.pending + d.pending, running = j.running + d.running,
                      retrying = j.retrying + d.retrying, completed = j.completed + d.completed,
                      failed = j.failed + d.failed, cancelled = j.cancelled + d.cancelled,
                      exhausted = j.exhausted + d.exhausted
      FROM (SELECT o.job_id, SUM(c.pending) AS pending, SUM(c.running) AS running,
                   SUM(c.retrying) AS retrying, SUM(c.completed) AS completed,
                   SUM(c.failed) AS failed, SUM(c.cancelled) AS cancelled, SUM(c.exhausted) AS exhausted
              FROM removed o, execution_counts(-1, o.status, o.retry_count, o.max_retries) c
             GROUP BY o.job_id) d
     WHERE j.id = d.job_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER executions_counted_on_insert AFTER INSERT ON executions
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION count_inserted_executions();

CREATE TRIGGER executions_counted_on_update AFTER UPDATE ON executions
    REFERENCING OLD TABLE AS before_change NEW TABLE AS after_change
    FOR EACH STATEMENT EXECUTE FUNCTION count_updated_executions();

CREATE TRIGGER executions_counted_on_delete AFTER DELETE ON executions
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_deleted_executions();
