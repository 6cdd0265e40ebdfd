-- Kanda schema, PostgreSQL dialect. Keep in step with migrations/sqlite/0001_init.sql:
-- the two differ only in key types (BIGSERIAL here, INTEGER PRIMARY KEY there) and BIGINT for INTEGER.
CREATE TABLE locations (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    level       BIGINT NOT NULL,            -- 1 province, 2 district, 3 sector, 4 village
    parent_id   BIGINT REFERENCES locations(id),
    province_id BIGINT,                     -- the province above (itself for a province)
    district_id BIGINT                      -- the district above (itself for a district)
);
CREATE INDEX locations_parent ON locations (parent_id, name);

CREATE TABLE centres (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    province_id BIGINT NOT NULL UNIQUE REFERENCES locations(id)
);

CREATE TABLE staff (
    id          BIGSERIAL PRIMARY KEY,
    phone       TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL,            -- caseworker, manager, committee
    centre_id   BIGINT NOT NULL REFERENCES centres(id),
    locale      TEXT    NOT NULL
);

CREATE TABLE volunteers (
    id          BIGSERIAL PRIMARY KEY,
    phone       TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    locale      TEXT    NOT NULL,
    village_id  BIGINT REFERENCES locations(id),
    created_at  BIGINT  NOT NULL
);

-- A USSD session's start snapshot; its inputs come with every hop.
CREATE TABLE ussd_sessions (
    session_id   TEXT    PRIMARY KEY,
    phone        TEXT    NOT NULL,
    locale       TEXT    NOT NULL,
    volunteer_id BIGINT,
    village_id   BIGINT,
    village_name TEXT,
    started_at   BIGINT  NOT NULL
);
CREATE INDEX ussd_sessions_started ON ussd_sessions (started_at);

CREATE TABLE cases (
    id             BIGSERIAL PRIMARY KEY,
    reference      TEXT    NOT NULL UNIQUE,
    stage          TEXT    NOT NULL,
    centre_id      BIGINT NOT NULL REFERENCES centres(id),
    location_id    BIGINT NOT NULL REFERENCES locations(id),
    urgent         BIGINT NOT NULL,
    concern        TEXT    NOT NULL,
    care           TEXT,
    child_name     TEXT,
    child_age      BIGINT,
    child_sex      TEXT    NOT NULL,
    disability     TEXT,
    channel        TEXT    NOT NULL,
    self_report    BIGINT NOT NULL,
    anonymous      BIGINT NOT NULL,
    reporter_phone TEXT,
    volunteer_id   BIGINT REFERENCES volunteers(id),
    source_key     TEXT    NOT NULL UNIQUE,  -- the session that created it: one case per session
    created_at     BIGINT  NOT NULL
);
CREATE INDEX cases_volunteer ON cases (volunteer_id, created_at);
CREATE INDEX cases_centre ON cases (centre_id, created_at);

-- The case timeline: registration, visits, and (later) alerts and stage changes.
CREATE TABLE case_events (
    id          BIGSERIAL PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases(id),
    kind        TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    actor       TEXT,
    channel     TEXT,
    outcome     TEXT,
    note        TEXT,
    source_key  TEXT    UNIQUE
);
CREATE INDEX case_events_case ON case_events (case_id, at);
