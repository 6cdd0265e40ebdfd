-- The same in both dialects: two of the indicators' indexes, made to hold
-- what their reads need.

-- A centre's alert SMS of a period, counted from the index alone: 0011's
-- index lacked the case id its partial condition names, so each counted
-- row was read from the table as well.
DROP INDEX outbox_centre_created;
CREATE INDEX outbox_centre_created ON outbox (centre_id, created_at, status, case_id) WHERE case_id IS NOT NULL;

-- Overdue reviews are looked for among planned cases: the stage first, in
-- the index of the few overdue cases, with the case's id its timers are
-- found by (0010 kept the centre only, and each overdue case of any stage
-- was read from the table for its stage and id).
DROP INDEX cases_overdue;
CREATE INDEX cases_overdue ON cases (stage, centre_id, id) WHERE overdue = 1;
