-- sqlite dialect. Keep in step with migrations/postgres/0016_ussd_unfinished.sql.
-- A dial looks for the phone's unfinished session: among the few that are
-- not yet over, not among every session the phone ever finished (0014's
-- index by phone made a dial read them all; a phone that reports every day
-- keeps hundreds within the purge's reach).
CREATE INDEX ussd_sessions_unfinished ON ussd_sessions (phone, updated_at)
    WHERE ended IS NULL OR ended = 'dropped';
DROP INDEX ussd_sessions_phone;
