-- Issue 10 (phone pages): the follow tokens of citizens who report without an account (SQLite).
-- Keep the table identical to the PostgreSQL migration of the same number.

-- 查询凭证: a citizen's anonymous report answers the case code and a random token, shown once;
-- only the token's SHA-256 (hex) is kept. Following a case needs the code and the token.
CREATE TABLE case_follow_tokens (
    token_hash TEXT PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    created_at TEXT NOT NULL
);
CREATE INDEX case_follow_tokens_case ON case_follow_tokens (case_id);
