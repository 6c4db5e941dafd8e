-- Cache versions and the audit checkpoint (SQLite). Keep the tables and columns identical to the
-- PostgreSQL migration of the same number: the conformance suite compares them.

-- 缓存版本: one row; each write of the routing matrix, the holiday schedule or an import bumps its
-- number in the same transaction, and every server process reloads a cache when its number moves.
CREATE TABLE cache_versions (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    routing   INTEGER NOT NULL DEFAULT 0,
    calendar  INTEGER NOT NULL DEFAULT 0,
    catalogue INTEGER NOT NULL DEFAULT 0
);
INSERT INTO cache_versions (id) VALUES (1);

-- 审计检查点: the last link of the event chain a verification found intact (at most one row).
CREATE TABLE audit_checkpoint (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    verified_at TEXT NOT NULL                   -- RFC 3339 UTC, microseconds
);
