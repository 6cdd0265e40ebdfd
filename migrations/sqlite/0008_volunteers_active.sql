-- A volunteer can be deactivated from the staff pages (sqlite dialect). Keep
-- in step with migrations/postgres/0008_volunteers_active.sql: the two differ
-- only in the integer type's name.
-- 0: deactivated. A deactivated volunteer is not recognised on USSD or SMS
-- (they report as the public) nor chosen to follow a case; an import of
-- their phone makes them active again.
ALTER TABLE volunteers ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
