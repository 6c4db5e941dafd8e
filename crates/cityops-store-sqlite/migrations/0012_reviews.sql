-- Issue 11 (third-party review, 第三方评价): the samples of closed cases drawn per period and
-- department, and one review per sampled case (SQLite). Keep the tables and columns identical to
-- the PostgreSQL migration of the same number: the conformance suite compares them.
-- Times are fixed-width RFC 3339 UTC text with microseconds (text order = time order). The
-- `cases` table is not touched: a case's `closed_at` is read from its document.

-- 评价样本: the cases drawn for a department in the period [period_from, period_to). A case is
-- drawn at most once per period; drawing a period again keeps what was drawn (and when).
CREATE TABLE review_samples (
    period_from   TEXT NOT NULL,
    period_to     TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    drawn_at      TEXT NOT NULL,
    PRIMARY KEY (period_from, period_to, case_id)
) WITHOUT ROWID;
CREATE INDEX review_samples_department ON review_samples (period_from, period_to, department_id);
CREATE INDEX review_samples_case ON review_samples (case_id, period_from, period_to);

-- 评价结果: one review per case (score 1–5, a comment, an optional photo), answering the
-- earliest sample that holds the case.
CREATE TABLE reviews (
    case_id       INTEGER PRIMARY KEY REFERENCES cases (id),
    period_from   TEXT NOT NULL,
    period_to     TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    reviewer_id   INTEGER NOT NULL REFERENCES users (id),
    score         INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment       TEXT NOT NULL,
    attachment_id INTEGER REFERENCES attachments (id),  -- claimed for the case with the review
    created_at    TEXT NOT NULL,
    FOREIGN KEY (period_from, period_to, case_id)
        REFERENCES review_samples (period_from, period_to, case_id)
);
