-- Cases pushed to Primero (sqlite dialect). Keep in step with
-- migrations/postgres/0012_primero.sql: the two differ only in key types and
-- in how the triggers are written.

-- The id Primero holds the case under, once Primero has it.
ALTER TABLE cases ADD COLUMN primero_id TEXT;

-- The push queue: one row per case registered from now on, kept by the
-- database in the same transaction as the case and its changes (the
-- triggers below), whoever writes them; the worker (casework/primero)
-- pushes a case's current fields, and only while Primero is configured.
-- Changes coalesce: a case changed three times while Primero is down is
-- sent once, as it stands.
CREATE TABLE primero_push (
    case_id         INTEGER PRIMARY KEY REFERENCES cases(id),
    client_id       TEXT,                       -- the id Kanda gives the case in Primero, kept before its first POST
    created         INTEGER NOT NULL DEFAULT 0, -- Primero has the case (its POST answered 2xx, or 409: it had it)
    changes         INTEGER NOT NULL,           -- changes to push, counted
    pushed          INTEGER NOT NULL DEFAULT 0, -- of those, pushed
    refused         INTEGER NOT NULL DEFAULT 0, -- Primero refused the last push for good (a 4xx); tried again at the next change
    attempts        INTEGER NOT NULL DEFAULT 0, -- failed tries since the last push
    next_attempt_at BIGINT  NOT NULL,           -- ms: not claimed before
    lease_until     BIGINT,                     -- ms: claimed by lease_owner until then
    lease_owner     TEXT,
    last_error      TEXT,
    pushed_at       BIGINT,
    updated_at      BIGINT  NOT NULL
);
-- The claim reads the due rows in order and stops after a batch.
CREATE INDEX primero_push_due ON primero_push (next_attempt_at, case_id)
    WHERE pushed < changes AND refused = 0;

CREATE TRIGGER cases_primero_new AFTER INSERT ON cases
BEGIN
    INSERT INTO primero_push (case_id, changes, next_attempt_at, updated_at)
    VALUES (NEW.id, 1, NEW.created_at, NEW.created_at);
END;

-- A stage change or a transfer is one more change to push; a refused push
-- is tried again with it.
CREATE TRIGGER cases_primero_changed AFTER UPDATE OF stage, centre_id ON cases
WHEN NEW.stage <> OLD.stage OR NEW.centre_id <> OLD.centre_id
BEGIN
    UPDATE primero_push SET changes = changes + 1,
        next_attempt_at = (CASE WHEN refused = 1 THEN 0 ELSE next_attempt_at END),
        refused = 0, attempts = (CASE WHEN refused = 1 THEN 0 ELSE attempts END)
    WHERE case_id = NEW.id;
END;
