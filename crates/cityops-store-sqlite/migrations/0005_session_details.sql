-- Sessions a user can see and revoke (GET/DELETE /api/v1/me/sessions): a public id that is
-- neither the token nor its hash, and the client that logged in. Sessions from before this
-- migration get a random id and no client details.
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
UPDATE sessions SET id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX sessions_id ON sessions (id);
