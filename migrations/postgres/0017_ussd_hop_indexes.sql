-- postgres dialect. Keep in step with migrations/sqlite/0017_ussd_hop_indexes.sql.
-- Every hop of a session rewrites its inputs and `updated_at`; an index
-- holding `updated_at` was rewritten with it, twice a hop (0014, 0016),
-- and halved the hops a server takes (see BENCHMARKS.md). Indexes now hold
-- only what a hop leaves alone, so a hop's update touches its row alone:
-- - the purge goes by `started_at`, which never changes: a session whose
--   last hop is older than the cut-off started before it too;
-- - a dial looks among the phone's sessions not yet over, a handful, and
--   sorts those by their last hop.
CREATE INDEX ussd_sessions_started ON ussd_sessions (started_at);
DROP INDEX ussd_sessions_updated;
CREATE INDEX ussd_sessions_open ON ussd_sessions (phone)
    WHERE ended IS NULL OR ended = 'dropped';
DROP INDEX ussd_sessions_unfinished;
