-- Indicators (sqlite dialect). Keep in step with migrations/postgres/0009_indicators.sql:
-- the two differ only in how the trigger is written.

-- When each step of a case was first done, kept from its timeline: the first
-- response (acknowledged, or a later step that also acknowledges), the first
-- assessment, the first plan. The database keeps them, in the same
-- transaction as the event's insert (the trigger below), whoever records the
-- event; the indicators read them instead of every case's timeline.
ALTER TABLE cases ADD COLUMN responded_at BIGINT;
ALTER TABLE cases ADD COLUMN assessed_at BIGINT;
ALTER TABLE cases ADD COLUMN planned_at BIGINT;

UPDATE cases SET
    responded_at = (SELECT MIN(e.at) FROM case_events e WHERE e.case_id = cases.id
                    AND e.kind IN ('acknowledged', 'assessed', 'planned', 'closed')),
    assessed_at  = (SELECT MIN(e.at) FROM case_events e WHERE e.case_id = cases.id AND e.kind = 'assessed'),
    planned_at   = (SELECT MIN(e.at) FROM case_events e WHERE e.case_id = cases.id AND e.kind = 'planned');

CREATE TRIGGER case_events_steps AFTER INSERT ON case_events
WHEN NEW.kind IN ('acknowledged', 'assessed', 'planned', 'closed')
BEGIN
    UPDATE cases SET
        responded_at = CASE WHEN responded_at IS NULL OR NEW.at < responded_at THEN NEW.at ELSE responded_at END,
        assessed_at  = CASE WHEN NEW.kind = 'assessed' AND (assessed_at IS NULL OR NEW.at < assessed_at) THEN NEW.at ELSE assessed_at END,
        planned_at   = CASE WHEN NEW.kind = 'planned' AND (planned_at IS NULL OR NEW.at < planned_at) THEN NEW.at ELSE planned_at END
    WHERE id = NEW.case_id;
END;

-- Plans are counted over the cases assessed in a period.
CREATE INDEX cases_assessed ON cases (assessed_at);
-- Closures, reopenings, escalations and visits are counted by event in a period.
CREATE INDEX case_events_kind_at ON case_events (kind, at);
-- Referrals made in a period.
CREATE INDEX referrals_at ON referrals (referred_at);

-- The case an SMS is about, for a message to staff about a case (alerts,
-- escalations, reminders): the indicators count them by the case's centre.
ALTER TABLE outbox ADD COLUMN case_id INTEGER REFERENCES cases(id);
CREATE INDEX outbox_case_created ON outbox (created_at) WHERE case_id IS NOT NULL;
