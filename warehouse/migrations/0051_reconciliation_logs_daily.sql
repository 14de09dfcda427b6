-- 0051: reconciliation's log side as per-day sums, kept by UTC day like usage_daily: a run that adds a day
-- rebuilds that day's sums, and reconciliation (rebuilt whole) reads these instead of every event
-- (docs/scaling.md). The invoice decides per provider and month whether the logs are compared by day or by
-- month; that is applied when reconciliation reads them. Money in the reporting currency (`currency`).

CREATE TABLE IF NOT EXISTS reconciliation_logs_daily (
    provider                    VARCHAR,   -- genai-prices provider id
    model                       VARCHAR,   -- normalized model
    month                       DATE,      -- first day of the UTC month of `day`
    day                         DATE,      -- UTC date of the requests
    logged_cost_usd             DOUBLE,    -- priced cost of the day's requests; NULL when none was priced
    logged_requests             BIGINT,
    unpriced_requests           BIGINT,
    logged_input_tokens         BIGINT,
    logged_cache_read_tokens    BIGINT,
    logged_cache_write_tokens   BIGINT,
    logged_output_tokens        BIGINT,
    unpriced_input              BIGINT,    -- tokens of the unpriced requests, per type
    unpriced_cache_read         BIGINT,
    unpriced_cache_write        BIGINT,
    unpriced_output             BIGINT,
    currency                    VARCHAR
);
