-- sqlite dialect. Keep in step with migrations/postgres/0014_ussd_resume.sql.
-- USSD sessions that outlive a dropped line (issue 16). The same in both
-- dialects.
--
-- A session keeps what was typed in it, as the gateway counts inputs (a
-- JSON list of strings): gateways that send only the latest input build
-- the list here, and a session dropped by the telco can be continued from
-- it on the next dial. `last_key` is the last hop's retry key (its
-- sequence number, or its input where the protocol has none): a hop sent
-- again finds it and saves nothing twice.
ALTER TABLE ussd_sessions ADD COLUMN inputs TEXT NOT NULL DEFAULT '[]';
ALTER TABLE ussd_sessions ADD COLUMN last_key TEXT;
ALTER TABLE ussd_sessions ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE ussd_sessions SET updated_at = started_at;
-- How it ended: `done` (its last screen shown), `dropped` (the gateway
-- said the line was lost or timed out), `continued` or `discarded` (a
-- later dial took its answers over or threw them away). NULL: no word yet.
ALTER TABLE ussd_sessions ADD COLUMN ended TEXT;
-- The unfinished session offered on this one's dial, and once answered:
-- the answers taken over from it (`prefix`, a JSON list) and how many of
-- this session's own inputs the offer used (`skip`).
ALTER TABLE ussd_sessions ADD COLUMN resume_of TEXT;
ALTER TABLE ussd_sessions ADD COLUMN prefix TEXT;
ALTER TABLE ussd_sessions ADD COLUMN skip BIGINT;

-- A phone's latest sessions, for the offer; the purge by last hop.
CREATE INDEX ussd_sessions_phone ON ussd_sessions (phone, updated_at);
DROP INDEX ussd_sessions_started;
CREATE INDEX ussd_sessions_updated ON ussd_sessions (updated_at);
