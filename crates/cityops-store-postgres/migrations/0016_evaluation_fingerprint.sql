-- Issue 11 (evaluation speed): the fingerprint of each local day of an evaluation period (cases, sum of versions,
-- latest write) is read by an index-only scan, with the columns of the usual visibility filters. Keep the name and
-- the columns equal to the SQLite migration of the same number.
CREATE INDEX cases_eval_fingerprint
    ON cases (created_at) INCLUDE (region_code, department_id, assignee_id, reporter_id, version, updated_at);
