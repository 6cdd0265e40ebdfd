-- The same in both dialects. The minutely sweep for unscheduled alerts
-- (src/alerts.rs) reads the last hour's cases and visits by time.
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX case_events_at ON case_events (at);
