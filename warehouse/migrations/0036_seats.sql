-- 0036: paid seats and subscriptions. One row per seat a vendor API lists on a snapshot day (Copilot seat
-- assignments, Cursor team members), or per line of a subscriptions file (a person's plan, or a count of seats).
-- Prices are per seat and month, in the seat's own currency, plus the same in US dollars when it is USD.
CREATE TABLE IF NOT EXISTS seats (
    vendor             VARCHAR NOT NULL,   -- anthropic | openai | github | cursor | another vendor as given
    plan               VARCHAR,            -- plan id (business, max_20x, team, ...); as given when aispend's plan table does not know it
    identity           VARCHAR,            -- who holds the seat (normalized; keyed hash with the switch); NULL for a count of seats
    seat_count         BIGINT NOT NULL,    -- 1 for a person's seat, N for a line of N seats
    monthly_price      DOUBLE,             -- per seat and month, in `currency`
    currency           VARCHAR,            -- ISO 4217
    monthly_price_usd  DOUBLE,             -- per seat and month in USD; NULL when the price is in another currency
    price_source       VARCHAR,            -- where the price comes from: subscriptions | plan_list_price | source_option
    start_date         DATE NOT NULL,      -- first paid UTC day
    end_date           DATE,               -- last paid UTC day (inclusive); NULL: still paid
    last_activity_at   TIMESTAMP,          -- the vendor's last activity of the seat holder (Copilot), UTC
    snapshot_day       DATE,               -- the UTC day an API listed the seat; NULL for file lines
    x_source           VARCHAR NOT NULL,
    x_source_file      VARCHAR NOT NULL
);
