-- Issue 13 (公共服务设施, public-service points of interest): public toilets (公厕), parks (公园),
-- vendor zones (摊规点) and car-free zones (无车区) (SQLite). Keep tables and columns identical to
-- the PostgreSQL migration of the same number. A POI is identified by its type and name (an import
-- replaces the POI of the same type and name); positions are WGS84. The nearby search reads a box
-- around the point on the position indexes, never the whole table.
CREATE TABLE pois (
    id             INTEGER PRIMARY KEY,
    poi_type       TEXT NOT NULL,
    name           TEXT NOT NULL,
    address        TEXT,
    lng            REAL NOT NULL,
    lat            REAL NOT NULL,
    opening_hours  TEXT,
    note           TEXT,
    district_code  TEXT,
    street_code    TEXT,
    community_code TEXT,
    grid_code      TEXT,
    updated_at     TEXT NOT NULL,
    UNIQUE (poi_type, name)
);
-- The nearby search of one type (a latitude band of the type, filtered by longitude in the index)
-- and of every type.
CREATE INDEX pois_type_position ON pois (poi_type, lat, lng);
CREATE INDEX pois_position ON pois (lat, lng);
