-- Issue 9 (security hardening): the contact access log and the case text search index
-- (PostgreSQL). Keep the tables identical to the SQLite migration of the same number.

-- 个人信息访问记录: every full view of a reporter's contact (name and phone) — who, which case,
-- when, how (`case` detail, `list` page, `action` answer). Append-only: changing, deleting or
-- truncating entries is refused.
CREATE TABLE contact_access_log (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL,
    user_id bigint NOT NULL REFERENCES users (id),
    case_id bigint NOT NULL REFERENCES cases (id),
    via     text NOT NULL CHECK (via IN ('case', 'list', 'action'))
);
CREATE INDEX contact_access_log_case ON contact_access_log (case_id, id);
CREATE INDEX contact_access_log_user ON contact_access_log (user_id, id);
CREATE FUNCTION contact_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'contact_access_log is append-only';
END
$$;
CREATE TRIGGER contact_access_log_no_change BEFORE UPDATE OR DELETE ON contact_access_log
    FOR EACH ROW EXECUTE FUNCTION contact_access_log_append_only();
CREATE TRIGGER contact_access_log_no_truncate BEFORE TRUNCATE ON contact_access_log
    FOR EACH STATEMENT EXECUTE FUNCTION contact_access_log_append_only();

-- Every distinct substring of 1 to 3 characters of each of a case's three texts (never across
-- them): the keys of the search index. A query of up to 3 characters is one key; a longer one
-- needs all its trigrams and a recheck. The same grams as cityops_store_sql::search::grams(…, 3).
-- Not pg_trgm: its trigrams follow the locale (a C-locale database extracts none from Chinese),
-- skip punctuation, and cannot use the index below 3 characters.
CREATE FUNCTION case_text_grams(code text, description text, address text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (
    SELECT coalesce(array_agg(DISTINCT substr(f, i, n)), '{}')
      FROM unnest(ARRAY[code, description, address]) AS f,
           generate_series(1, 3) AS n,
           generate_series(1, char_length(f) - n + 1) AS i
);

-- The searchable text of each case (`q=` of the case list): code, description and address,
-- folded (ASCII letters in lower case; see cityops_store_sql::search), and its grams, computed
-- once when the row is written (a query never computes grams, so no plan can choose to compute
-- them for every case). Written with the case; it never changes afterwards.
CREATE TABLE case_text (
    case_id     bigint PRIMARY KEY REFERENCES cases (id),
    code        text NOT NULL,
    description text NOT NULL,
    address     text NOT NULL DEFAULT '',
    grams       text[] NOT NULL GENERATED ALWAYS AS (case_text_grams(code, description, address)) STORED
);

-- The cases stored before this migration; translate() folds ASCII letters only, as the search does.
INSERT INTO case_text (case_id, code, description, address)
SELECT id,
       translate(code, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
       translate(coalesce(doc::json ->> 'description', ''),
                 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
       translate(coalesce(doc::json -> 'location' ->> 'address', ''),
                 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
  FROM cases;

CREATE INDEX case_text_grams ON case_text USING gin (grams);

-- The scope of an inspector is "their region, or what they reported, follow or are assigned":
-- with an index for each alternative (SQLite has this one since 0002) the OR is a BitmapOr of
-- index scans instead of a scan of every case.
CREATE INDEX cases_assignee_id ON cases (assignee_id) WHERE assignee_id IS NOT NULL;
