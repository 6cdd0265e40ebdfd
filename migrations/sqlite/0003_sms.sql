-- SMS conversations, sqlite dialect. Keep in step with migrations/postgres/0003_sms.sql.
-- Replies already given: a gateway may deliver one message twice, and the
-- second gets the same reply with no second effect. Kept a week.
CREATE TABLE sms_inbound (
    provider    TEXT   NOT NULL,
    message_id  TEXT   NOT NULL,
    reply       TEXT   NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (provider, message_id)
);
CREATE INDEX sms_inbound_received ON sms_inbound (received_at);

-- A guided conversation: one open per phone, its start snapshot like a USSD
-- session's. Its answers are deleted when it ends or times out.
CREATE TABLE sms_conversations (
    id           TEXT    PRIMARY KEY,       -- random: the key of its effects
    phone        TEXT    NOT NULL UNIQUE,
    start_state  TEXT    NOT NULL,          -- flow.state
    locale       TEXT    NOT NULL,
    volunteer_id INTEGER,
    village_id   INTEGER,
    village_name TEXT,
    started_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX sms_conversations_updated ON sms_conversations (updated_at);

CREATE TABLE sms_inputs (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT   NOT NULL,
    message_key     TEXT   NOT NULL UNIQUE,  -- provider:message id: one answer per message
    input           TEXT   NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX sms_inputs_conversation ON sms_inputs (conversation_id, id);
