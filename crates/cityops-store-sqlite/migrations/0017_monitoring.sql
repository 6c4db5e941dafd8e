-- Issue 12 (运行监测, operation monitoring): devices, readings with minute/hour rollups, rules and
-- alarms (SQLite). Keep tables and columns identical to the PostgreSQL migration of the same
-- number. Reading and rollup times are Unix milliseconds (`ts_ms`, `bucket_ms`) in both stores:
-- compact, and one code path for the chart queries; everything else is as in the other tables.
CREATE TABLE devices (
    key            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    device_type    TEXT NOT NULL,
    name           TEXT NOT NULL,
    lng            REAL NOT NULL,
    lat            REAL NOT NULL,
    grid_code      TEXT,
    community_code TEXT,
    street_code    TEXT,
    district_code  TEXT,
    component_id   TEXT,
    department_id  INTEGER REFERENCES departments (id),
    profile        TEXT NOT NULL,
    responsible    TEXT,
    active         INTEGER NOT NULL DEFAULT 1,
    updated_at     TEXT NOT NULL
);
CREATE INDEX devices_type ON devices (device_type, id);
CREATE INDEX devices_grid ON devices (grid_code);
CREATE INDEX devices_department ON devices (department_id);

-- One row per (device, metric, time): a reading stored twice is stored once.
CREATE TABLE readings (
    device_key INTEGER NOT NULL,
    metric     INTEGER NOT NULL,
    ts_ms      INTEGER NOT NULL,
    value      REAL NOT NULL,
    PRIMARY KEY (device_key, metric, ts_ms)
) WITHOUT ROWID;

-- Minute (60000) and hour (3600000) buckets of what was newly stored.
CREATE TABLE reading_rollups (
    device_key INTEGER NOT NULL,
    metric     INTEGER NOT NULL,
    resolution INTEGER NOT NULL,
    bucket_ms  INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    total      REAL NOT NULL,
    min_value  REAL NOT NULL,
    max_value  REAL NOT NULL,
    PRIMARY KEY (device_key, metric, resolution, bucket_ms)
) WITHOUT ROWID;
CREATE INDEX reading_rollups_recent ON reading_rollups (resolution, bucket_ms);

CREATE TABLE monitoring_rules (
    id            INTEGER PRIMARY KEY,
    profile       TEXT NOT NULL,
    name          TEXT NOT NULL,
    metric        TEXT NOT NULL,
    definition    TEXT NOT NULL,
    case_level    INTEGER,
    category_code TEXT,
    clear_after_secs INTEGER NOT NULL,
    enabled       INTEGER NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX monitoring_rules_profile ON monitoring_rules (profile);

CREATE TABLE alarms (
    id               INTEGER PRIMARY KEY,
    device_id        TEXT NOT NULL REFERENCES devices (id),
    rule_id          INTEGER NOT NULL REFERENCES monitoring_rules (id),
    rule             TEXT NOT NULL,
    metric           TEXT NOT NULL,
    level            INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
    status           TEXT NOT NULL CHECK (status IN ('raised', 'acknowledged', 'cleared')),
    raised_at        TEXT NOT NULL,
    value            REAL NOT NULL,
    updated_at       TEXT NOT NULL,
    acknowledged_at  TEXT,
    acknowledged_by  INTEGER REFERENCES users (id),
    cleared_at       TEXT,
    case_id          INTEGER REFERENCES cases (id),
    -- Who is opening the case: the process that set this first (a stale claim may be taken over).
    case_claimed_at  TEXT,
    reminders        INTEGER NOT NULL DEFAULT 0,
    last_reminder_at TEXT,
    escalated_at     TEXT
);
-- One active alarm per device and rule, whichever process raises it.
CREATE UNIQUE INDEX alarms_one_active ON alarms (device_id, rule_id) WHERE status <> 'cleared';
CREATE INDEX alarms_recent ON alarms (raised_at DESC, id DESC);
CREATE INDEX alarms_case ON alarms (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX alarms_device ON alarms (device_id, raised_at DESC);
