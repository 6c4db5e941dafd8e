-- Issue 8: the duplicate check (重复案件) reads from an in-memory index of the window's open
-- reports in each process (cityops_app::duplicates), kept current from the audit chain
-- (CaseRepo::duplicate_changes), and re-reads only a hit's candidates by id. The store index on
-- (category_code, lng, lat) served the old per-report query; each report wrote a page of it at a
-- random place (12 % of a SQLite report's WAL pages, docs/PERFORMANCE.md), and nothing reads it now.
DROP INDEX cases_duplicate;
