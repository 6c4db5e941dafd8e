-- CityOps case workflow schema (SQLite). Keep the tables and columns identical to the PostgreSQL
-- migration of the same number: the conformance suite compares them.
-- Times are fixed-width RFC 3339 UTC text with microseconds (text order = time order);
-- booleans are 0/1.

-- 案件 (cases): the whole `Case` as JSON in `doc`, plus the columns every filter, sort and scope
-- check reads.
CREATE TABLE cases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,       -- YYYYMMDD + 5-digit daily sequence
    doc             TEXT NOT NULL,              -- the Case as JSON
    status          TEXT NOT NULL,
    source          TEXT NOT NULL,
    category_code   TEXT,
    region_code     TEXT,                       -- most specific located code
    district_code   TEXT,
    street_code     TEXT,
    community_code  TEXT,
    grid_code       TEXT,
    department_id   INTEGER REFERENCES departments (id),
    assignee_id     INTEGER,
    reporter_id     INTEGER,
    lng             REAL NOT NULL,
    lat             REAL NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    stage_due       TEXT,                       -- due time of the running stage clock (open cases)
    stage_yellow_at TEXT,
    light           TEXT NOT NULL CHECK (light IN ('green', 'yellow', 'red')),
    overdue         INTEGER NOT NULL DEFAULT 0 CHECK (overdue IN (0, 1)),
    supervised      INTEGER NOT NULL DEFAULT 0 CHECK (supervised IN (0, 1)),
    suspended_until TEXT,
    merged_into     INTEGER,
    version         INTEGER NOT NULL CHECK (version >= 1)
);
CREATE INDEX cases_created_at ON cases (created_at DESC, id DESC);
CREATE INDEX cases_status ON cases (status, created_at);
CREATE INDEX cases_region_code ON cases (region_code);
CREATE INDEX cases_department_id ON cases (department_id, created_at);
CREATE INDEX cases_assignee_id ON cases (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX cases_reporter_id ON cases (reporter_id);
CREATE INDEX cases_duplicate ON cases (category_code, created_at, lng, lat);
CREATE INDEX cases_lng_lat ON cases (lng, lat);
-- The deadline watcher and the due-time sort: only cases with a running clock.
CREATE INDEX cases_stage_due ON cases (stage_due) WHERE stage_due IS NOT NULL;
CREATE INDEX cases_stage_yellow_at ON cases (stage_yellow_at) WHERE stage_yellow_at IS NOT NULL;
CREATE INDEX cases_suspended_until ON cases (suspended_until) WHERE suspended_until IS NOT NULL;

-- 流转记录 (case events): one append-only hash chain over all cases, in seq order.
CREATE TABLE case_events (
    seq         INTEGER PRIMARY KEY,            -- position in the chain, 1, 2, 3 …
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    action      TEXT NOT NULL,
    actor_id    INTEGER,
    actor_role  TEXT,
    at          TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    comment     TEXT,
    attachments TEXT NOT NULL DEFAULT '[]',     -- JSON array of attachment ids
    data        TEXT NOT NULL DEFAULT '{}',     -- JSON object
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX case_events_case_id ON case_events (case_id, seq);

-- The next number of each day's case codes.
CREATE TABLE case_code_seq (
    day  TEXT PRIMARY KEY NOT NULL,             -- YYYY-MM-DD (local date of the report)
    last INTEGER NOT NULL
) WITHOUT ROWID;

-- Users following a case (the reporter, merged reporters): they see it and hear of it.
CREATE TABLE case_followers (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    user_id INTEGER NOT NULL,
    PRIMARY KEY (case_id, user_id)
) WITHOUT ROWID;
CREATE INDEX case_followers_user_id ON case_followers (user_id, case_id);

-- 待办/消息 (notifications): to a user, a department's inbox, or a role within a region.
CREATE TABLE notifications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER,
    department_id INTEGER,
    role          TEXT,
    region_code   TEXT,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    action        TEXT NOT NULL,
    title         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    read_at       TEXT
);
CREATE INDEX notifications_user_id ON notifications (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX notifications_department_id ON notifications (department_id, id) WHERE department_id IS NOT NULL;
CREATE INDEX notifications_role ON notifications (role, id) WHERE role IS NOT NULL;

-- 附件 (attachments): photo records; the bytes live on disk by content hash.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256       TEXT NOT NULL,
    mime         TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    thumb_sha256 TEXT NOT NULL,
    uploaded_by  INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    file_name    TEXT,
    case_id      INTEGER REFERENCES cases (id)
);
CREATE INDEX attachments_case_id ON attachments (case_id, id) WHERE case_id IS NOT NULL;

-- 权责清单 (the responsibility matrix): (category, region) → department.
CREATE TABLE routing_rules (
    category_kind TEXT NOT NULL CHECK (category_kind IN ('component', 'matter')),
    category_code TEXT NOT NULL,                -- 5 digits, 2 digits or *
    region_code   TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    auto_dispatch INTEGER NOT NULL DEFAULT 0 CHECK (auto_dispatch IN (0, 1)),
    PRIMARY KEY (category_kind, category_code, region_code)
) WITHOUT ROWID;

-- 节假日/调休 (the holiday schedule of the working calendar).
CREATE TABLE calendar_days (
    date TEXT PRIMARY KEY NOT NULL,             -- YYYY-MM-DD
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL
) WITHOUT ROWID;
