-- 0006: spend anomalies, budget status (marts, rebuilt whole on each run) and alerts_sent (append-only: never
-- rebuilt or truncated, it is what keeps an alert from being posted twice).

CREATE TABLE IF NOT EXISTS anomalies (
    day            DATE NOT NULL,     -- UTC day of the requests
    provider       VARCHAR,           -- genai-prices provider id
    model          VARCHAR,           -- normalized model id
    team           VARCHAR,           -- as logged; NULL when the requests named no team
    cost_usd       DOUBLE,            -- priced request cost that day; 0 when no requests; NULL when all unpriced
    baseline_usd   DOUBLE,            -- median daily cost of the trailing window (day excluded, same kind of day)
    mad_usd        DOUBLE,            -- median absolute deviation of that window from its median (raw, unfloored)
    history_days   BIGINT,            -- days with a known cost in the window
    score          DOUBLE,            -- 0.6745 * (cost - baseline) / max(MAD, 5% of |baseline|, $0.01); NULL: too little history
    is_anomaly     BOOLEAN NOT NULL,  -- |score| above the threshold (3.5) and at least $1 from the baseline
    direction      VARCHAR            -- 'spike' | 'drop' | NULL
);

CREATE TABLE IF NOT EXISTS budget_status (
    budget                 VARCHAR NOT NULL,  -- the config budget's name
    team                   VARCHAR,           -- the budget's team filter; NULL: every team
    provider               VARCHAR,           -- the budget's provider filter (genai-prices id); NULL: every provider
    monthly_usd            DOUBLE NOT NULL,   -- the budget
    month                  DATE NOT NULL,     -- first day of the month evaluated
    as_of                  DATE NOT NULL,     -- last day counted
    cost_basis             VARCHAR NOT NULL,  -- which cost: 'priced_usage' (usage_events.cost_usd)
    actual_usd             DOUBLE,            -- month to date; NULL when every matching request was unpriced
    forecast_usd           DOUBLE,            -- actual + remaining days x median daily of the last 14 days
    forecast_low_usd       DOUBLE,            -- ... x 20th percentile
    forecast_high_usd      DOUBLE,            -- ... x 80th percentile
    actual_pct             DOUBLE,            -- 100 x actual / budget
    forecast_pct           DOUBLE,            -- 100 x forecast / budget
    thresholds_reached     BIGINT[],          -- percents of the budget reached by actual spend, e.g. [50, 80]
    highest_threshold_pct  BIGINT,            -- the largest of them; NULL: none
    forecast_over_budget   BOOLEAN,           -- the point forecast exceeds the budget
    status                 VARCHAR NOT NULL,  -- ok | warning | over | unknown
    unpriced_requests      BIGINT NOT NULL    -- matching requests this month with no price (not in actual_usd)
);

CREATE TABLE IF NOT EXISTS alerts_sent (
    alert_key  VARCHAR NOT NULL,   -- what was alerted, e.g. budget:anthropic:2026-11:actual:80
    kind       VARCHAR NOT NULL,   -- budget | budget_forecast | anomaly
    sent_at    TIMESTAMP NOT NULL, -- UTC time of the (last) attempt
    target     VARCHAR NOT NULL,   -- the NAME of the environment variable holding the webhook URL, never the URL
    status     VARCHAR NOT NULL,   -- sent | failed (only 'sent' rows keep an alert from being posted again)
    attempts   BIGINT,             -- HTTP attempts made
    error      VARCHAR             -- for failed: the HTTP status or exception type (never the URL)
);
