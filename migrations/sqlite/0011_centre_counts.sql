-- A case's centre on the rows counted by centre (sqlite dialect). Keep in
-- step with migrations/postgres/0011_centre_counts.sql: the two differ only
-- in how the triggers are written.
--
-- A centre's indicators count its cases' events, referrals and alert
-- messages in a period. Finding each row's case for its centre is a lookup
-- per row; with the centre on the row, a centre's rows of a period are one
-- range of an index that holds everything counted. The database keeps the
-- copy, whoever writes: set on insert (the triggers below, in the same
-- transaction), and rewritten when a case changes centre (an accepted
-- transfer), so a centre counts the rows of the cases it holds now, as
-- before.

ALTER TABLE case_events ADD COLUMN centre_id INTEGER REFERENCES centres(id);
ALTER TABLE referrals ADD COLUMN centre_id INTEGER REFERENCES centres(id);
ALTER TABLE outbox ADD COLUMN centre_id INTEGER REFERENCES centres(id);

UPDATE case_events SET centre_id = (SELECT c.centre_id FROM cases c WHERE c.id = case_events.case_id);
UPDATE referrals SET centre_id = (SELECT c.centre_id FROM cases c WHERE c.id = referrals.case_id);
UPDATE outbox SET centre_id = (SELECT c.centre_id FROM cases c WHERE c.id = outbox.case_id)
WHERE case_id IS NOT NULL;

CREATE TRIGGER case_events_centre AFTER INSERT ON case_events
BEGIN
    UPDATE case_events SET centre_id = (SELECT c.centre_id FROM cases c WHERE c.id = NEW.case_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER referrals_centre AFTER INSERT ON referrals
BEGIN
    UPDATE referrals SET centre_id = (SELECT c.centre_id FROM cases c WHERE c.id = NEW.case_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER outbox_centre AFTER INSERT ON outbox
WHEN NEW.case_id IS NOT NULL
BEGIN
    UPDATE outbox SET centre_id = (SELECT c.centre_id FROM cases c WHERE c.id = NEW.case_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER cases_centre_moved AFTER UPDATE OF centre_id ON cases
WHEN NEW.centre_id <> OLD.centre_id
BEGIN
    UPDATE case_events SET centre_id = NEW.centre_id WHERE case_id = NEW.id;
    UPDATE referrals SET centre_id = NEW.centre_id WHERE case_id = NEW.id;
    UPDATE outbox SET centre_id = NEW.centre_id WHERE case_id = NEW.id;
END;

-- A centre's rows of a period, with what is counted of them, centre first.
CREATE INDEX case_events_centre_kind_at ON case_events (centre_id, kind, at, case_id, outcome);
CREATE INDEX referrals_centre_at ON referrals (centre_id, referred_at, service, outcome);
CREATE INDEX outbox_centre_created ON outbox (centre_id, created_at, status) WHERE case_id IS NOT NULL;
CREATE INDEX outbox_case ON outbox (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX cases_centre_cohort ON cases (centre_id, created_at, location_id, concern, channel,
    self_report, urgent, responded_at, assessed_at);
CREATE INDEX cases_centre_assessed ON cases (centre_id, assessed_at, planned_at);
