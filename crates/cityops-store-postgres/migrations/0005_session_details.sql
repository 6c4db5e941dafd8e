-- Sessions a user can see and revoke (GET/DELETE /api/v1/me/sessions): a public id that is
-- neither the token nor its hash, and the client that logged in. Sessions from before this
-- migration get a random id and no client details.
ALTER TABLE sessions
    ADD COLUMN id text COLLATE "C",
    ADD COLUMN address text,
    ADD COLUMN user_agent text;
UPDATE sessions SET id = md5(token_hash || random()::text || clock_timestamp()::text);
ALTER TABLE sessions ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX sessions_id ON sessions (id);
