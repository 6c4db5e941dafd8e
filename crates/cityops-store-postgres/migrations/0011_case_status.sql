-- The work queues (待办), the console's case list and the big screen filter by status and by the running
-- stage's due time within a scope that may cover the whole city. Without these indexes PostgreSQL read the
-- scope's cases through the region index and filtered them: at 73k cases an intake's queue count took 40 ms
-- and the 工作台 200 ms, the big screen's overdue count 35 ms; with them about 1 ms each. SQLite has had both
-- indexes since 0002 (cases_status, cases_stage_due).
CREATE INDEX IF NOT EXISTS cases_status ON cases (status, created_at);
CREATE INDEX IF NOT EXISTS cases_stage_due ON cases (stage_due);
