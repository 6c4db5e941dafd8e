-- Issue 14 (一码管全域: management objects, 码上办 checks, 双保险, 三教而罚) on SQLite. Keep
-- tables and columns identical to the PostgreSQL migration of the same number.

-- 管理对象: a coded object, its regions, its responsible party (责任人) and its zone (JSON ring).
CREATE TABLE managed_objects (
    id                  INTEGER PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    kind                TEXT NOT NULL,
    name                TEXT NOT NULL,
    address             TEXT NOT NULL,
    lng                 REAL NOT NULL,
    lat                 REAL NOT NULL,
    zone                TEXT,
    district_code       TEXT,
    street_code         TEXT,
    community_code      TEXT,
    grid_code           TEXT,
    responsible_user_id INTEGER REFERENCES users (id),
    responsible_name    TEXT NOT NULL,
    responsible_phone   TEXT NOT NULL,
    owner_department_id INTEGER REFERENCES departments (id),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    created_by          INTEGER REFERENCES users (id),
    updated_by          INTEGER REFERENCES users (id),
    version             INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX managed_objects_street ON managed_objects (street_code, code);
CREATE INDEX managed_objects_district ON managed_objects (district_code, code);
CREATE INDEX managed_objects_community ON managed_objects (community_code);
CREATE INDEX managed_objects_grid ON managed_objects (grid_code);
CREATE INDEX managed_objects_kind ON managed_objects (kind, code);
CREATE INDEX managed_objects_responsible ON managed_objects (responsible_user_id);
CREATE INDEX managed_objects_department ON managed_objects (owner_department_id);

-- 赋码: the last sequence number issued per (division, kind); taken by one upsert.
CREATE TABLE object_code_sequences (
    division  TEXT NOT NULL,
    kind_code INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    PRIMARY KEY (division, kind_code)
);

-- 自查/巡查: results and the comparison (双保险) as JSON text.
CREATE TABLE object_checks (
    id            INTEGER PRIMARY KEY,
    object_id     INTEGER NOT NULL REFERENCES managed_objects (id),
    kind          TEXT NOT NULL CHECK (kind IN ('self_check', 'inspection')),
    by_user       INTEGER NOT NULL REFERENCES users (id),
    at            TEXT NOT NULL,
    lng           REAL,
    lat           REAL,
    distance_m    REAL,
    far           INTEGER NOT NULL DEFAULT 0,
    results       TEXT NOT NULL,
    failing       INTEGER NOT NULL,
    comparison    TEXT,
    compared_with INTEGER REFERENCES object_checks (id),
    street_code   TEXT
);
CREATE INDEX object_checks_object ON object_checks (object_id, at, id);
CREATE INDEX object_checks_kind ON object_checks (object_id, kind, at);

-- A check's evidence photos: each photo belongs to one check.
CREATE TABLE object_check_photos (
    attachment_id INTEGER PRIMARY KEY REFERENCES attachments (id),
    check_id      INTEGER NOT NULL REFERENCES object_checks (id)
);
CREATE INDEX object_check_photos_check ON object_check_photos (check_id);

-- 双保险: the failing items of an inspection and how the self-check before it saw them.
CREATE TABLE object_discrepancies (
    id            INTEGER PRIMARY KEY,
    check_id      INTEGER NOT NULL REFERENCES object_checks (id),
    object_id     INTEGER NOT NULL REFERENCES managed_objects (id),
    item_code     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    street_code   TEXT,
    at            TEXT NOT NULL,
    by_user       INTEGER NOT NULL REFERENCES users (id),
    self_check_at TEXT
);
CREATE INDEX object_discrepancies_street ON object_discrepancies (street_code, at);
CREATE INDEX object_discrepancies_at ON object_discrepancies (at, id);
CREATE INDEX object_discrepancies_object ON object_discrepancies (object_id, at);

-- 三教而罚: the record (domain document, JSON text) and its projected columns.
CREATE TABLE rectifications (
    id                     INTEGER PRIMARY KEY,
    object_id              INTEGER NOT NULL REFERENCES managed_objects (id),
    item_code              TEXT NOT NULL,
    street_code            TEXT,
    source                 TEXT NOT NULL,
    stage                  TEXT NOT NULL,
    opened_at              TEXT NOT NULL,
    due                    TEXT,
    next_due               TEXT,
    closed_at              TEXT,
    closed_stage           TEXT,
    record                 TEXT NOT NULL,
    opened_by_check        INTEGER REFERENCES object_checks (id),
    closed_by_check        INTEGER REFERENCES object_checks (id),
    enforcement_case_id    INTEGER REFERENCES cases (id),
    -- Who is opening the enforcement case: the process that set this first (a stale claim may
    -- be taken over).
    enforcement_claimed_at TEXT,
    version                INTEGER NOT NULL DEFAULT 1,
    updated_at             TEXT NOT NULL
);
-- At most one open record per object and item.
CREATE UNIQUE INDEX rectifications_one_open ON rectifications (object_id, item_code)
    WHERE closed_at IS NULL;
CREATE INDEX rectifications_due ON rectifications (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX rectifications_awaiting ON rectifications (id)
    WHERE stage = 'enforcement' AND enforcement_case_id IS NULL;
CREATE INDEX rectifications_object ON rectifications (object_id, opened_at);
CREATE INDEX rectifications_street ON rectifications (street_code, opened_at);
CREATE INDEX rectifications_opened ON rectifications (opened_at, id);
