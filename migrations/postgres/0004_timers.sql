-- Durable timers, postgres dialect. Keep in step with migrations/sqlite/0004_timers.sql:
-- the two differ only in key types (BIGSERIAL here, INTEGER PRIMARY KEY there) and BIGINT for INTEGER.
-- A deadline or reminder is a row here; the scheduler (src/scheduler.rs) runs its
-- handler once it is due, so no restart loses one.
CREATE TABLE timers (
    id          BIGSERIAL PRIMARY KEY,
    case_id     BIGINT  REFERENCES cases(id),   -- NULL: not about one case (a digest)
    kind        TEXT    NOT NULL,             -- the caller's: ack, assessment, plan, review, digest...
    level       BIGINT,                        -- the caller's escalation step, if any
    due_at      BIGINT  NOT NULL,             -- ms: the deadline; never moved
    state       TEXT    NOT NULL,             -- pending, fired (its handler ran), met, cancelled
    lease_until BIGINT,                       -- ms: pending and not claimable before (claimed, or a retry's wait)
    attempts    BIGINT  NOT NULL,               -- handler runs that failed
    last_error  TEXT,
    fired_at    BIGINT,                       -- ms: when its handler succeeded
    settled_at  BIGINT,                       -- ms: when met or cancelled
    source_key  TEXT    NOT NULL UNIQUE,      -- the caller's idempotency key
    payload     TEXT,                         -- JSON for the handler
    quiet       BIGINT  NOT NULL,               -- 1: may be held back by quiet hours (the caller's decision)
    created_at  BIGINT  NOT NULL
);
-- The claim walks pending timers in due order and stops after a batch.
CREATE INDEX timers_due ON timers (due_at, id) WHERE state = 'pending';
-- When the next leased or retrying timer becomes claimable again.
CREATE INDEX timers_leases ON timers (lease_until) WHERE state = 'pending' AND lease_until IS NOT NULL;
-- A case's timers (its timeline, and settling them on a stage change).
CREATE INDEX timers_case ON timers (case_id, kind);
