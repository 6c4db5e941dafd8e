-- Issue 10 (the big screen, 领导大屏): today's filed, dispatched and closed cases and the 30-day
-- closing trend are counted from the stage events (`file`, `dispatch`, `close`) within a time
-- range. Without this index every count reads the whole event chain (~640 000 events in the
-- demo city); with it, a range of one action. Keep identical in both stores.
CREATE INDEX case_events_action_at ON case_events (action, at);
