-- The duplicate check (CaseRepo::duplicate_candidates) asks for open cases of one category inside
-- a box of about 100 m. The old index (category_code, created_at, lng, lat) scanned every case of
-- the category inside the time window, so a storm of reports of one category made every later check
-- slower. This one holds only open, unmerged cases and narrows by longitude first.
DROP INDEX cases_duplicate;
CREATE INDEX cases_duplicate ON cases (category_code, lng, lat)
    WHERE status NOT IN ('closed', 'cancelled') AND merged_into IS NULL;
