-- Security hardening of shared inboxes, evidence ids and admin changes (SQLite). Keep the tables
-- and columns identical to the PostgreSQL migration of the same number: the conformance suite
-- compares them.

-- 已读 per user: a notification to a department or a role is read by each colleague on their own.
-- `notifications.read_at` keeps the reads made before this table existed (then one flag for all).
CREATE TABLE notification_reads (
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    user_id         INTEGER NOT NULL,
    read_at         TEXT NOT NULL,              -- RFC 3339 UTC, microseconds
    PRIMARY KEY (notification_id, user_id)
) WITHOUT ROWID;
CREATE INDEX notification_reads_user_id ON notification_reads (user_id, notification_id);

-- 附件的公开编号: every URL and JSON names a photo by a random UUID, never by the row id, so ids
-- cannot be guessed by counting. Existing photos get a random (version 4) UUID here; new ones a
-- version 7 UUID from the store.
ALTER TABLE attachments ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE attachments SET public_id = lower(
    hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
    || substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
    || hex(randomblob(6)));
CREATE UNIQUE INDEX attachments_public_id ON attachments (public_id);

-- 配置版本: every change of the responsibility matrix (routing) and of the holiday schedule
-- (calendar) is kept whole — who, when, a summary and the full content after the change (JSON) —
-- so any version can be restored (a restore is itself a new version).
CREATE TABLE config_versions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    subject       TEXT NOT NULL CHECK (subject IN ('routing', 'calendar')),
    user_id       INTEGER,                      -- NULL: the system (demo, command line, migration)
    at            TEXT NOT NULL,                -- RFC 3339 UTC, microseconds
    summary       TEXT NOT NULL,
    restored_from INTEGER REFERENCES config_versions (id),
    items         INTEGER NOT NULL,             -- rules or days in `content`
    content       TEXT NOT NULL                 -- JSON array of the rules or days
);
CREATE INDEX config_versions_subject ON config_versions (subject, id);

-- What was there before versions were kept becomes the first version of each.
INSERT INTO config_versions (subject, user_id, at, summary, items, content)
SELECT 'routing', NULL, strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z',
       'baseline (before versions were kept)', count(*),
       coalesce(json_group_array(json_object(
           'category_kind', category_kind, 'category_code', category_code,
           'region_code', region_code, 'department_id', department_id,
           'auto_dispatch', json(CASE WHEN auto_dispatch THEN 'true' ELSE 'false' END))), '[]')
  FROM (SELECT * FROM routing_rules ORDER BY category_kind, category_code, region_code)
HAVING count(*) > 0;
INSERT INTO config_versions (subject, user_id, at, summary, items, content)
SELECT 'calendar', NULL, strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z',
       'baseline (before versions were kept)', count(*),
       coalesce(json_group_array(json_object('date', date, 'kind', kind, 'name', name)), '[]')
  FROM (SELECT * FROM calendar_days ORDER BY date)
HAVING count(*) > 0;
