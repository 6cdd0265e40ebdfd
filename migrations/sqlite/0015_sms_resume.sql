-- sqlite dialect. Keep in step with migrations/postgres/0015_sms_resume.sql.
-- A guided SMS conversation that timed out with answers may be continued
-- (issue 16): its next message within the resume window is offered the
-- choice, and `offered` says the offer was made (the reply to it is read as
-- the choice, not as an answer).
ALTER TABLE sms_conversations ADD COLUMN offered BIGINT NOT NULL DEFAULT 0;
