-- Issue 11 (case export): a case export (CSV or XLSX) that holds reporters' contacts in full is
-- written to the contact access log too, as `export`. Keep in step with the SQLite migration of
-- the same number.
ALTER TABLE contact_access_log DROP CONSTRAINT contact_access_log_via_check;
ALTER TABLE contact_access_log ADD CONSTRAINT contact_access_log_via_check
    CHECK (via IN ('case', 'list', 'action', 'export'));
