-- UI.md §7: a job may carry a name (1–120 characters), shown on its page, in the jobs list
-- and in its export files' names.
ALTER TABLE jobs ADD COLUMN name TEXT;
