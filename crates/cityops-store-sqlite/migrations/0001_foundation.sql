-- CityOps foundation schema (SQLite). Keep the tables and columns identical to the PostgreSQL
-- migration of the same number: the conformance suite compares them.

-- 区域 (regions): city → district → street → community → unit grid.
CREATE TABLE regions (
    code         TEXT PRIMARY KEY NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('city', 'district', 'street', 'community', 'grid')),
    name         TEXT NOT NULL,
    parent_code  TEXT,
    geometry     TEXT,             -- GeoJSON geometry, WGS84
    bbox_min_lng REAL,
    bbox_min_lat REAL,
    bbox_max_lng REAL,
    bbox_max_lat REAL,
    center_lng   REAL,
    center_lat   REAL,
    area_m2      REAL,
    synthetic    INTEGER NOT NULL DEFAULT 0 CHECK (synthetic IN (0, 1))
);  -- a rowid table: rows carry polygons, too large for WITHOUT ROWID
CREATE INDEX regions_level_code ON regions (level, code);
CREATE INDEX regions_parent_code ON regions (parent_code);

-- 部件和事项分类 (category catalogue), identified by (kind, code).
CREATE TABLE categories (
    kind       TEXT NOT NULL CHECK (kind IN ('component', 'matter')),
    code       TEXT NOT NULL,
    class_code TEXT NOT NULL,
    class_name TEXT NOT NULL,
    name       TEXT NOT NULL,
    old_code   TEXT,
    PRIMARY KEY (kind, code)
) WITHOUT ROWID;

-- 立案、处置和结案标准 (filing standards): one row per filing condition of a category.
CREATE TABLE filing_standards (
    kind              TEXT NOT NULL CHECK (kind IN ('component', 'matter')),
    code              TEXT NOT NULL,
    seq               INTEGER NOT NULL CHECK (seq >= 0),
    filing_condition  TEXT NOT NULL,
    limit_value       INTEGER NOT NULL CHECK (limit_value >= 0),
    limit_unit        TEXT NOT NULL CHECK (limit_unit IN ('urgent_hour', 'work_hour', 'work_day', 'natural_day')),
    limit_text        TEXT NOT NULL,
    closure_condition TEXT NOT NULL,
    old_code          TEXT,
    source            TEXT NOT NULL,
    PRIMARY KEY (kind, code, seq)
);

-- 部门 (departments).
CREATE TABLE departments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    region_code TEXT NOT NULL,
    parent_id   INTEGER REFERENCES departments (id)
);
CREATE INDEX departments_region_code ON departments (region_code);
CREATE INDEX departments_parent_id ON departments (parent_id);

-- 用户 (users). roles and grids are JSON arrays of strings.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL DEFAULT '[]',
    region_code   TEXT,
    department_id INTEGER REFERENCES departments (id),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    grids         TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL      -- RFC 3339, UTC
);
CREATE INDEX users_department_id ON users (department_id);

-- 登录会话 (sessions), by the SHA-256 of the token.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,        -- RFC 3339, UTC
    expires_at TEXT NOT NULL         -- RFC 3339, UTC (fixed width, so text order = time order)
) WITHOUT ROWID;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- 部件 (components), by the 17-digit management component id.
CREATE TABLE components (
    id                       TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 17),
    category_code            TEXT NOT NULL,
    name                     TEXT NOT NULL,
    lng                      REAL NOT NULL,
    lat                      REAL NOT NULL,
    grid_code                TEXT,
    community_code           TEXT,
    owner_department_id      INTEGER REFERENCES departments (id),
    maintainer_department_id INTEGER REFERENCES departments (id),
    status                   TEXT NOT NULL CHECK (status IN ('intact', 'damaged', 'lost', 'abandoned', 'removed')),
    surveyed_on              TEXT NOT NULL   -- YYYY-MM-DD
);
CREATE INDEX components_lng_lat ON components (lng, lat);
CREATE INDEX components_category_code ON components (category_code);
CREATE INDEX components_grid_code ON components (grid_code);
CREATE INDEX components_owner ON components (owner_department_id);
CREATE INDEX components_maintainer ON components (maintainer_department_id);

-- Key/value settings of the deployment (e.g. the demo city).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;
