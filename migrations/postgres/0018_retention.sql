-- postgres dialect. Keep in step with migrations/sqlite/0018_retention.sql.
-- Retention (KANDA_RETENTION): a case closed for longer than the period
-- loses what identifies the child (its name, its notes); the case, its
-- counts and its indicators stay. `purged_at` says when, and keeps the
-- purge from looking at it again.
ALTER TABLE cases ADD COLUMN purged_at BIGINT;
-- The purge looks among closed cases not yet purged: few beside all cases.
CREATE INDEX cases_closed_kept ON cases (id) WHERE stage = 'closed' AND purged_at IS NULL;
