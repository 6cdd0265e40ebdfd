-- The SMS outbox, PostgreSQL dialect. Keep in step with migrations/sqlite/0002_outbox.sql:
-- the two differ only in key types (BIGSERIAL here, INTEGER PRIMARY KEY there) and BIGINT for INTEGER.
-- Every outgoing SMS is a row here before any network call; the worker (src/outbox.rs) sends it.
CREATE TABLE outbox (
    id                  BIGSERIAL PRIMARY KEY,
    to_phone            TEXT    NOT NULL,             -- E.164
    body                TEXT    NOT NULL,
    kind                TEXT    NOT NULL,             -- reply, notice
    urgent              BIGINT  NOT NULL,
    status              TEXT    NOT NULL,             -- queued, sending, sent, delivered, undelivered, failed
    provider            TEXT,                         -- twilio, africastalking, log: who took the last attempt
    provider_message_id TEXT,
    provider_status     TEXT,                         -- the provider's last word, verbatim
    attempts            BIGINT  NOT NULL,             -- sends tried (a 429 is not one)
    next_attempt_at     BIGINT  NOT NULL,             -- ms: not claimed before
    lease_until         BIGINT,                       -- ms: while `sending`, claimable again after
    lease_owner         TEXT,                         -- the worker holding the lease
    last_error          TEXT,
    source_key          TEXT    NOT NULL UNIQUE,      -- the caller's idempotency key
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    sent_at             BIGINT
);
-- The claim walks due messages in its order and stops after a batch, without sorting the queue.
CREATE INDEX outbox_due ON outbox (urgent DESC, next_attempt_at, id) WHERE status = 'queued';
-- Leases of claimed messages, to hand back those whose worker died.
CREATE INDEX outbox_leases ON outbox (lease_until) WHERE status = 'sending';
CREATE INDEX outbox_provider_message ON outbox (provider_message_id);
