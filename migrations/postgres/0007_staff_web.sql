-- The staff web view and API (postgres dialect). Keep in step with
-- migrations/sqlite/0007_staff_web.sql: the two differ in key types, in
-- how staff.centre_id becomes optional, and in the audit log's guard.

-- National staff (admin, auditor) belong to no centre.
ALTER TABLE staff ALTER COLUMN centre_id DROP NOT NULL;
ALTER TABLE staff ADD COLUMN password_hash TEXT;                 -- argon2 (PHC string); NULL: cannot sign in
ALTER TABLE staff ADD COLUMN active BIGINT NOT NULL DEFAULT 1;   -- 0: deactivated
ALTER TABLE staff ADD COLUMN locked_until BIGINT;                -- ms: sign-in refused until then

-- A signed-in browser; only the SHA-256 of the cookie's token is kept.
CREATE TABLE web_sessions (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  TEXT    NOT NULL UNIQUE,
    staff_id    BIGINT  NOT NULL REFERENCES staff(id),
    csrf        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    seen_at     BIGINT  NOT NULL,
    address     TEXT
);
CREATE INDEX web_sessions_staff ON web_sessions (staff_id);
CREATE INDEX web_sessions_seen ON web_sessions (seen_at);

-- An API client's bearer token (its SHA-256 only).
CREATE TABLE api_tokens (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL UNIQUE,
    role        TEXT    NOT NULL,
    centre_id   BIGINT  REFERENCES centres(id),
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Append-only: the database refuses UPDATE and DELETE.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    case_id     BIGINT  REFERENCES cases(id),
    address     TEXT,
    detail      TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_case ON audit_log (case_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor, action, at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

ALTER TABLE cases ADD COLUMN assigned_to BIGINT REFERENCES staff(id);
ALTER TABLE cases ADD COLUMN follow_volunteer_id BIGINT REFERENCES volunteers(id);
ALTER TABLE cases ADD COLUMN visit_interval_days BIGINT;
-- 1 while a deadline the case missed is still undone (kept by the case work after each
-- stage change, visit and missed deadline), so lists sort overdue cases first by index.
ALTER TABLE cases ADD COLUMN overdue BIGINT NOT NULL DEFAULT 0;
CREATE INDEX cases_centre_order ON cases (centre_id, urgent, overdue, created_at);
CREATE INDEX cases_order ON cases (urgent, overdue, created_at);

CREATE TABLE case_transfers (
    id            BIGSERIAL PRIMARY KEY,
    case_id       BIGINT  NOT NULL REFERENCES cases(id),
    from_centre_id BIGINT NOT NULL REFERENCES centres(id),
    to_centre_id  BIGINT  NOT NULL REFERENCES centres(id),
    reason        TEXT    NOT NULL,
    requested_by  BIGINT  NOT NULL REFERENCES staff(id),
    requested_at  BIGINT  NOT NULL,
    state         TEXT    NOT NULL,
    decided_by    BIGINT  REFERENCES staff(id),
    decided_at    BIGINT,
    decision_note TEXT
);
CREATE INDEX case_transfers_case ON case_transfers (case_id);
CREATE INDEX case_transfers_to ON case_transfers (to_centre_id, state);
CREATE UNIQUE INDEX case_transfers_one_pending ON case_transfers (case_id) WHERE state = 'pending';

CREATE TABLE referrals (
    id            BIGSERIAL PRIMARY KEY,
    case_id       BIGINT  NOT NULL REFERENCES cases(id),
    service       TEXT    NOT NULL,
    note          TEXT,
    referred_by   BIGINT  NOT NULL REFERENCES staff(id),
    referred_at   BIGINT  NOT NULL,
    outcome       TEXT,
    outcome_note  TEXT,
    outcome_at    BIGINT
);
CREATE INDEX referrals_case ON referrals (case_id);
