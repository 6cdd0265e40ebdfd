-- A volunteer can be deactivated from the staff pages (postgres dialect).
-- Keep in step with migrations/sqlite/0008_volunteers_active.sql: the two
-- differ only in the integer type's name.
-- 0: deactivated. A deactivated volunteer is not recognised on USSD or SMS
-- (they report as the public) nor chosen to follow a case; an import of
-- their phone makes them active again.
ALTER TABLE volunteers ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
