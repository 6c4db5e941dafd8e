-- Issue 13 (Open311 GeoReport v2, 公众诉求开放接口): the client applications that may post
-- requests, and what Open311 keeps of each request it filed as a case (SQLite). Keep tables and
-- columns identical to the PostgreSQL migration of the same number.

-- 接入应用: an API key is shown once when it is issued; only its SHA-256 (hex) is kept. Every
-- POST looks the hash up here (an indexed lookup), so a revocation holds at once in every process.
CREATE TABLE open311_clients (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    contact      TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_by   INTEGER REFERENCES users (id),
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX open311_clients_created ON open311_clients (created_at DESC, id DESC);

-- One row per case reported through Open311: its token (`tokens/{token}`), the client that sent
-- it, the photo links it carried (a JSON array of URLs, never fetched) and the answers to the
-- service's questions (a JSON object `{code: [values]}`).
CREATE TABLE open311_requests (
    case_id    INTEGER PRIMARY KEY REFERENCES cases (id),
    client_id  INTEGER NOT NULL REFERENCES open311_clients (id),
    token      TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    media_urls TEXT NOT NULL DEFAULT '[]',
    attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX open311_requests_client ON open311_requests (client_id, created_at);
