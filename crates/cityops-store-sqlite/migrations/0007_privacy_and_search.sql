-- Issue 9 (security hardening): the contact access log and the case text search index (SQLite).
-- Keep the tables identical to the PostgreSQL migration of the same number.

-- 个人信息访问记录: every full view of a reporter's contact (name and phone) — who, which case,
-- when, how (`case` detail, `list` page, `action` answer). Append-only: changing or deleting an
-- entry is refused.
CREATE TABLE contact_access_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    case_id INTEGER NOT NULL REFERENCES cases (id),
    via     TEXT NOT NULL CHECK (via IN ('case', 'list', 'action'))
);
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

-- The searchable text of each case (`q=` of the case list): code, description and address,
-- folded (ASCII letters in lower case; see cityops_store_sql::search). Written with the case; it
-- never changes afterwards.
CREATE TABLE case_text (
    case_id     INTEGER PRIMARY KEY REFERENCES cases (id),
    code        TEXT NOT NULL,
    description TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT ''
);

-- Queries of 3 characters or more: a phrase of trigrams (exact substring search), over the
-- folded text (so case-sensitive trigrams), kept in step with `case_text` by triggers.
CREATE VIRTUAL TABLE case_trigram USING fts5(
    code, description, address,
    content = 'case_text', content_rowid = 'case_id',
    tokenize = 'trigram case_sensitive 1'
);
CREATE TRIGGER case_text_insert AFTER INSERT ON case_text
BEGIN
    INSERT INTO case_trigram (rowid, code, description, address)
    VALUES (new.case_id, new.code, new.description, new.address);
END;
CREATE TRIGGER case_text_delete AFTER DELETE ON case_text
BEGIN
    INSERT INTO case_trigram (case_trigram, rowid, code, description, address)
    VALUES ('delete', old.case_id, old.code, old.description, old.address);
END;
CREATE TRIGGER case_text_update AFTER UPDATE ON case_text
BEGIN
    INSERT INTO case_trigram (case_trigram, rowid, code, description, address)
    VALUES ('delete', old.case_id, old.code, old.description, old.address);
    INSERT INTO case_trigram (rowid, code, description, address)
    VALUES (new.case_id, new.code, new.description, new.address);
END;

-- Queries of 1 or 2 characters (`井盖`), which trigrams cannot find: every character and pair of
-- characters of a case's text as a term (hex code points, written by the store in Rust).
CREATE VIRTUAL TABLE case_grams USING fts5(
    grams,
    content = '', detail = 'none', tokenize = 'ascii'
);

-- The cases stored before this migration (their grams follow right after it, from Rust:
-- cityops-store-sqlite `backfill_grams`). SQLite's lower() folds ASCII only, as the search does.
INSERT INTO case_text (case_id, code, description, address)
SELECT id,
       lower(code),
       lower(coalesce(json_extract(doc, '$.description'), '')),
       lower(coalesce(json_extract(doc, '$.location.address'), ''))
  FROM cases;
