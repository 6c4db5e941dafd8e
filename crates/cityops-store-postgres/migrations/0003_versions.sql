-- Cache versions and the audit checkpoint (PostgreSQL). Keep the tables and columns identical to
-- the SQLite migration of the same number: the conformance suite compares them.

-- 缓存版本: one row; each write of the routing matrix, the holiday schedule or an import bumps its
-- number in the same transaction, and every server process reloads a cache when its number moves.
CREATE TABLE cache_versions (
    id        int PRIMARY KEY CHECK (id = 1),
    routing   bigint NOT NULL DEFAULT 0,
    calendar  bigint NOT NULL DEFAULT 0,
    catalogue bigint NOT NULL DEFAULT 0
);
INSERT INTO cache_versions (id) VALUES (1);

-- 审计检查点: the last link of the event chain a verification found intact (at most one row).
CREATE TABLE audit_checkpoint (
    id          int PRIMARY KEY CHECK (id = 1),
    seq         bigint NOT NULL,
    hash        text NOT NULL,
    verified_at timestamptz NOT NULL
);
