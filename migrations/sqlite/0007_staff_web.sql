-- The staff web view and API (sqlite dialect). Keep in step with
-- migrations/postgres/0007_staff_web.sql: the two differ in key types, in
-- how staff.centre_id becomes optional, and in the audit log's guard.

-- National staff (admin, auditor) belong to no centre: staff.centre_id
-- becomes optional. SQLite cannot drop a NOT NULL, so the table is
-- rebuilt; its rows keep their ids, and the rota's and chain's references
-- are checked again at commit (deferred), once the rows are back.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE staff_before_0007 AS SELECT * FROM staff;
DROP TABLE staff;
CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    phone         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,            -- caseworker, manager, committee, admin, auditor
    centre_id     INTEGER REFERENCES centres(id), -- NULL for admin and auditor
    locale        TEXT    NOT NULL,
    password_hash TEXT,                        -- argon2 (PHC string); NULL: cannot sign in
    active        INTEGER NOT NULL DEFAULT 1,  -- 0: deactivated, cannot sign in nor be alerted
    locked_until  BIGINT                       -- ms: sign-in refused until then (failed sign-ins)
);
INSERT INTO staff (id, phone, name, role, centre_id, locale)
    SELECT id, phone, name, role, centre_id, locale FROM staff_before_0007;
DROP TABLE staff_before_0007;

-- A signed-in browser. The cookie carries a random token; only its
-- SHA-256 is kept, so a copy of the database opens no session.
CREATE TABLE web_sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT    NOT NULL UNIQUE,
    staff_id    INTEGER NOT NULL REFERENCES staff(id),
    csrf        TEXT    NOT NULL,              -- the token every form of this session carries
    created_at  BIGINT  NOT NULL,
    seen_at     BIGINT  NOT NULL,              -- ms: last request; idle past KANDA_WEB_SESSION_TTL ends it
    address     TEXT
);
CREATE INDEX web_sessions_staff ON web_sessions (staff_id);
CREATE INDEX web_sessions_seen ON web_sessions (seen_at);

-- An API client's bearer token (its SHA-256 only), with a role and, for a
-- centre's roles, the centre.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL UNIQUE,
    role        TEXT    NOT NULL,
    centre_id   INTEGER REFERENCES centres(id),
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Who did or read what, when, from where. Append-only: Kanda never
-- changes or deletes a row, and the database refuses to.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,              -- staff phone (E.164), token:NAME, or the phone a failed sign-in gave
    action      TEXT    NOT NULL,
    case_id     INTEGER REFERENCES cases(id),
    address     TEXT,
    detail      TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_case ON audit_log (case_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor, action, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- The case work of the web view: who the case is assigned to, who visits
-- it and how often.
ALTER TABLE cases ADD COLUMN assigned_to INTEGER REFERENCES staff(id);
ALTER TABLE cases ADD COLUMN follow_volunteer_id INTEGER REFERENCES volunteers(id);
ALTER TABLE cases ADD COLUMN visit_interval_days INTEGER;
-- 1 while a deadline the case missed is still undone (kept by the case work after each
-- stage change, visit and missed deadline), so lists sort overdue cases first by index.
ALTER TABLE cases ADD COLUMN overdue INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_centre_order ON cases (centre_id, urgent, overdue, created_at);
CREATE INDEX cases_order ON cases (urgent, overdue, created_at);

-- A transfer to another centre: the receiving centre's manager accepts or
-- rejects it; until accepted the case stays with the sending centre.
CREATE TABLE case_transfers (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    from_centre_id INTEGER NOT NULL REFERENCES centres(id),
    to_centre_id  INTEGER NOT NULL REFERENCES centres(id),
    reason        TEXT    NOT NULL,
    requested_by  INTEGER NOT NULL REFERENCES staff(id),
    requested_at  BIGINT  NOT NULL,
    state         TEXT    NOT NULL,            -- pending, accepted, rejected
    decided_by    INTEGER REFERENCES staff(id),
    decided_at    BIGINT,
    decision_note TEXT
);
CREATE INDEX case_transfers_case ON case_transfers (case_id);
CREATE INDEX case_transfers_to ON case_transfers (to_centre_id, state);
CREATE UNIQUE INDEX case_transfers_one_pending ON case_transfers (case_id) WHERE state = 'pending';

-- A referral to a service, and later its outcome.
CREATE TABLE referrals (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    service       TEXT    NOT NULL,            -- health, education, legal_aid, social_protection, psychosocial, other
    note          TEXT,
    referred_by   INTEGER NOT NULL REFERENCES staff(id),
    referred_at   BIGINT  NOT NULL,
    outcome       TEXT,                        -- accepted, declined, completed, no_response
    outcome_note  TEXT,
    outcome_at    BIGINT
);
CREATE INDEX referrals_case ON referrals (case_id);
