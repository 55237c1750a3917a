-- Researchers' own studies (RESEARCH.md §1–§2): questions with tags and an in-use mark,
-- question sets (the eight built-in questions are `beacon-default`), job parameters, and a
-- cell that is (question, model, region, sample_index). Keep in step with
-- migrations/sqlite/0012_questions_samples.sql.

-- Tags as a JSON array. `in_use` is set, in the job's own transaction, when a job first asks
-- the question: from then on the question never changes.
ALTER TABLE questions ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE questions ADD COLUMN in_use INTEGER NOT NULL DEFAULT 0;
UPDATE questions SET in_use = 1 WHERE id IN (SELECT DISTINCT question_id FROM executions);

CREATE TABLE question_sets (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT
);

CREATE TABLE question_set_members (
    set_id      TEXT NOT NULL REFERENCES question_sets (id),
    question_id TEXT NOT NULL REFERENCES questions (id),
    -- The set's order, which a job built from it keeps.
    position    INTEGER NOT NULL,
    PRIMARY KEY (set_id, question_id)
);

CREATE INDEX question_set_members_question ON question_set_members (question_id);

INSERT INTO question_sets (id, name, created_at) VALUES ('beacon-default', 'Beacon''s eight built-in questions', 0);
INSERT INTO question_set_members (set_id, question_id, position)
    SELECT 'beacon-default', id, position FROM questions
    WHERE id IN ('math_basic', 'geography_basic', 'identity_basic', 'tiananmen_neutral', 'taiwan_status',
                 'hongkong_2019', 'greatest_invention', 'greatest_leader');

-- What the job asked for; older jobs have no record of their temperature and tokens (null).
ALTER TABLE jobs ADD COLUMN question_set TEXT;
ALTER TABLE jobs ADD COLUMN samples INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN temperature DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN max_tokens INTEGER;
ALTER TABLE jobs ADD COLUMN seed BIGINT;

ALTER TABLE executions ADD COLUMN sample_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions DROP CONSTRAINT executions_job_id_region_model_id_question_id_key;
ALTER TABLE executions ADD CONSTRAINT executions_cell_unique UNIQUE (job_id, region, model_id, question_id, sample_index);
-- Exports read a job question by question (RESEARCH.md §3's order).
CREATE INDEX executions_job_question ON executions (job_id, question_index);
