-- Each centre's on-duty rota and escalation chain (sqlite dialect). Keep in step
-- with migrations/postgres/0005_rota.sql: the two differ only in key types.
-- An import replaces a centre's rows, both tables alike.

-- Who receives a centre's alerts, by day and hours (local time, KANDA_TIMEZONE).
CREATE TABLE rota (
    id           INTEGER PRIMARY KEY,
    centre_id    INTEGER NOT NULL REFERENCES centres(id),
    staff_id     INTEGER NOT NULL REFERENCES staff(id),
    days         INTEGER NOT NULL,  -- bitmask: Mon 1, Tue 2, Wed 4, Thu 8, Fri 16, Sat 32, Sun 64
    start_minute INTEGER NOT NULL,  -- minutes after midnight, included
    end_minute   INTEGER NOT NULL,  -- excluded; before start_minute: runs past midnight; 0-1440: all day
    fallback     INTEGER NOT NULL   -- 1: a contact for when no row covers the moment
);
CREATE INDEX rota_centre ON rota (centre_id);

-- Who is alerted next when an alert is not acknowledged: level 1 (caseworkers), 2, 3...
CREATE TABLE escalation_chain (
    centre_id    INTEGER NOT NULL REFERENCES centres(id),
    level        INTEGER NOT NULL,
    staff_id     INTEGER NOT NULL REFERENCES staff(id),
    UNIQUE (centre_id, level, staff_id)
);
