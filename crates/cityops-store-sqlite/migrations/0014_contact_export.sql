-- Issue 11 (case export): a case export (CSV or XLSX) that holds reporters' contacts in full is
-- written to the contact access log too, as `export`. Keep in step with the PostgreSQL migration
-- of the same number.
--
-- SQLite cannot change a CHECK constraint: the table is rebuilt with its rows, ids, indexes and
-- append-only triggers (dropping a table drops its triggers before its rows, so the append-only
-- rule does not stand in the way; nothing references this table).
CREATE TABLE contact_access_log_new (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    case_id INTEGER NOT NULL REFERENCES cases (id),
    via     TEXT NOT NULL CHECK (via IN ('case', 'list', 'action', 'export'))
);
INSERT INTO contact_access_log_new (id, at, user_id, case_id, via)
    SELECT id, at, user_id, case_id, via FROM contact_access_log ORDER BY id;
DROP TABLE contact_access_log;
ALTER TABLE contact_access_log_new RENAME TO contact_access_log;
CREATE INDEX contact_access_log_case ON contact_access_log (case_id, id);
CREATE INDEX contact_access_log_user ON contact_access_log (user_id, id);
CREATE TRIGGER contact_access_log_no_update BEFORE UPDATE ON contact_access_log
BEGIN
    SELECT RAISE(ABORT, 'contact_access_log is append-only');
END;
CREATE TRIGGER contact_access_log_no_delete BEFORE DELETE ON contact_access_log
BEGIN
    SELECT RAISE(ABORT, 'contact_access_log is append-only');
END;
