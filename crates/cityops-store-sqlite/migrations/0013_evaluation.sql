-- 综合评价 (evaluation): each case's evaluation record (`EvalRecord` as JSON: who took each step,
-- when, whether in time), written with every case write; read for a whole period at once.
-- Cases stored before this migration have an empty record.
ALTER TABLE cases ADD COLUMN facts TEXT NOT NULL DEFAULT '{}';
