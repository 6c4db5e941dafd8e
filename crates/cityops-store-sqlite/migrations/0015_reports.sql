-- Issue 11 (reports, 报表): the daily briefings (晨报), weekly (周报) and monthly (月报) reports
-- the server produced, kept as history (SQLite). Keep the tables and columns identical to the
-- PostgreSQL migration of the same number: the conformance suite compares them.
-- Dates are `YYYY-MM-DD` text in both stores; `region_code` is a district's code, or '' for the
-- whole city (so that one UNIQUE constraint makes a key unique); `content` is the report as JSON.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('daily', 'weekly', 'monthly')),
    period_from TEXT NOT NULL,
    period_to   TEXT NOT NULL,
    region_code TEXT NOT NULL,
    produced_at TEXT NOT NULL,
    produced_by INTEGER REFERENCES users (id),
    content     TEXT NOT NULL,
    UNIQUE (kind, period_from, period_to, region_code),
    CHECK (period_from < period_to)
);
CREATE INDEX reports_history ON reports (period_to DESC, kind, region_code);
