-- 0007: the month-end forecast per scope (total, each provider, each team), rebuilt on each run.
-- Cost: allocated AI cost (invoice-true where invoices are loaded, the logs' priced cost where they are not).
CREATE TABLE IF NOT EXISTS spend_forecast (
    month             DATE NOT NULL,     -- first day of the month forecast
    as_of             DATE NOT NULL,     -- last day counted (the newest day with data)
    scope             VARCHAR NOT NULL,  -- total | provider | team
    scope_value       VARCHAR,           -- 'total', the provider id, or the team (NULL: no team)
    days_elapsed      BIGINT,
    days_remaining    BIGINT,
    actual_usd        DOUBLE,            -- month to date
    window_days       BIGINT,            -- days in the trailing window used for the daily rate
    daily_median_usd  DOUBLE,
    daily_low_usd     DOUBLE,            -- 20th percentile of daily spend in the window
    daily_high_usd    DOUBLE,            -- 80th percentile
    forecast_usd      DOUBLE,            -- actual + remaining days x daily median
    forecast_low_usd  DOUBLE,
    forecast_high_usd DOUBLE
);
