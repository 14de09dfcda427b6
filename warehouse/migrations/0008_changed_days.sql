-- What the marts still owe: every load records the days whose rows it changed, in the same transaction as the
-- rows; a day-windowed mart records how far through this log it has rebuilt (mart_builds.through_id), in the
-- same transaction as its own rows. A run rebuilds each mart over the days recorded after its through_id, so a
-- run killed between a load and the marts leaves nothing stale for the next one.
CREATE SEQUENCE IF NOT EXISTS changed_days_id;

CREATE TABLE IF NOT EXISTS changed_days (
    id           BIGINT DEFAULT nextval('changed_days_id') PRIMARY KEY,
    table_name   VARCHAR NOT NULL,   -- cost_lines | usage_events | ...
    first_day    DATE NOT NULL,      -- UTC, inclusive
    last_day     DATE NOT NULL,      -- UTC, inclusive
    source       VARCHAR,            -- the config source the load came from
    location     VARCHAR,            -- the unit's key
    recorded_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS mart_builds (
    mart        VARCHAR PRIMARY KEY,
    through_id  BIGINT NOT NULL,     -- every changed_days row with id <= this is rebuilt
    built_at    TIMESTAMP NOT NULL
);
