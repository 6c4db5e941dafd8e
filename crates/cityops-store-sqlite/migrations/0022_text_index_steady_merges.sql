-- Issue 8: the text indexes (case_trigram, case_grams) merge their segments a little in every
-- write group (cityops-store-sqlite `index_texts`: an FTS5 'merge' of about one page per report)
-- instead of by FTS5's automerge, which did the merging in bursts: every 64 leaf pages written it
-- merged 64 pages per level at once, and a write group that hit such a burst held the writer for
-- up to 106 ms (docs/PERFORMANCE.md). A level that still gathers 64 segments is merged at once,
-- as a backstop.
INSERT INTO case_trigram (case_trigram, rank) VALUES ('automerge', 0);
INSERT INTO case_trigram (case_trigram, rank) VALUES ('crisismerge', 64);
INSERT INTO case_grams (case_grams, rank) VALUES ('automerge', 0);
INSERT INTO case_grams (case_grams, rank) VALUES ('crisismerge', 64);
