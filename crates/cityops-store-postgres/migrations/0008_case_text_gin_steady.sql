-- The case text index takes each report's grams at once instead of collecting them in GIN's pending list: a
-- pending-list flush inside one report's commit stalled the whole write group (intake p99 145 ms, max 469 ms at
-- 2,500 reports/s); with fastupdate off every insert pays its own small share.
ALTER INDEX case_text_grams SET (fastupdate = off);
