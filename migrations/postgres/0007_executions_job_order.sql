-- A job's executions in table order (their ids): what a job page, the keyset API and the
-- streamed exports read a page at a time. With it, a page of a 30,000-execution job costs
-- what a page of a small one does; without it, every page sorted the whole job.
CREATE INDEX executions_job_order ON executions (job_id, id);
