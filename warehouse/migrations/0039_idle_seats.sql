-- 0039: seats paid for that nobody used in the last 30 days, as of the newest day of data. Rebuilt each run.
CREATE TABLE IF NOT EXISTS idle_seats (
    as_of              DATE NOT NULL,      -- the newest UTC day of the data the judgement rests on
    vendor             VARCHAR NOT NULL,
    plan               VARCHAR,
    person             VARCHAR,
    team               VARCHAR,
    identity           VARCHAR,
    seat_start         DATE,
    last_activity_day  DATE,               -- NULL: no activity seen at all
    days_idle          BIGINT,             -- as_of - last_activity_day; NULL when never active
    monthly_cost_usd   DOUBLE,             -- what the seat costs a month at its price
    evidence           VARCHAR             -- the sources whose activity was looked at
);
