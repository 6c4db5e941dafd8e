-- The duplicate check (CaseRepo::duplicate_candidates) asks for open cases of one category inside
-- a box of about 100 m. (category_code, created_at) scanned every case of the category inside the
-- time window, so a storm of reports of one category made every later check slower. This index
-- holds only open, unmerged cases and narrows by longitude first.
CREATE INDEX cases_duplicate ON cases (category_code, lng, lat)
    WHERE status NOT IN ('closed', 'cancelled') AND merged_into IS NULL;
