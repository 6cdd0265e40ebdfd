-- The same in both dialects: indexes the indicators read through.

-- The few cases with a missed deadline still undone, by centre: overdue
-- reviews are counted without reading every case.
CREATE INDEX cases_overdue ON cases (centre_id) WHERE overdue = 1;

-- The cases registered in a period with everything the indicators count of
-- them, in the index itself: a period's cases are read in one range of it,
-- never from the table's rows (scattered: reports arrive in any order).
CREATE INDEX cases_cohort ON cases (created_at, centre_id, location_id, concern, channel,
    self_report, urgent, responded_at, assessed_at);

-- Events, plans and alert messages of a period, counted from the index
-- alone (what 0009 indexed by time only, now with what is counted).
DROP INDEX case_events_kind_at;
CREATE INDEX case_events_kind_at ON case_events (kind, at, case_id, outcome);
DROP INDEX cases_assessed;
CREATE INDEX cases_assessed ON cases (assessed_at, centre_id, location_id, planned_at);
DROP INDEX outbox_case_created;
CREATE INDEX outbox_case_created ON outbox (created_at, case_id, status) WHERE case_id IS NOT NULL;
