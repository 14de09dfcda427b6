-- 0053: what each user the logs name used per UTC day, provider and source, kept by day like usage_daily:
-- person_monthly and idle_seats read these sums, never the events, so a run that adds a day rebuilds that day's
-- sums only (docs/scaling.md). cost_usd in US dollars as logged; person_monthly converts (docs/finance.md).

CREATE TABLE IF NOT EXISTS person_usage_daily (
    user_id          VARCHAR,   -- as logged (a keyed hash with privacy.pseudonymize_people)
    day              DATE,      -- UTC date of the requests
    provider         VARCHAR,
    x_source         VARCHAR,   -- the config source the requests came from
    requests         BIGINT,    -- sum of request_count
    sessions         BIGINT,    -- distinct run ids that day
    cost_usd         DOUBLE,    -- priced cost in USD; NULL when nothing was priced
    unpriced_tokens  BIGINT     -- tokens of the unpriced requests
);
