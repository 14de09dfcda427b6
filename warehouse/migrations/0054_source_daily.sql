-- 0054: usage per UTC day, source, provider and model, kept by day like usage_daily: how much of each source is
-- priced and how far it reaches. The usage checks (price coverage, freshness, task_roi accounting for all usage)
-- and the run's closing summary read these sums, not the events, so a run that adds a day no longer scans the
-- whole history to judge it (bench/README.md). cost_usd in US dollars as logged.

CREATE TABLE IF NOT EXISTS source_daily (
    day                DATE,      -- UTC date of the requests
    x_source           VARCHAR,   -- the config source the requests came from
    provider           VARCHAR,
    model              VARCHAR,
    "rows"             BIGINT,    -- usage_events rows
    requests           BIGINT,    -- sum of request_count
    unpriced_rows      BIGINT,    -- rows with no price (cost_usd NULL: never $0)
    unpriced_requests  BIGINT,    -- their request_count (NULL when none)
    tokens             BIGINT,    -- input + cache read + cache write + output tokens
    priced_tokens      BIGINT,    -- the tokens of priced rows (NULL when none)
    unpriced_tokens    BIGINT,    -- the tokens of unpriced rows (NULL when none)
    cost_usd           DOUBLE,    -- priced cost in USD; NULL when nothing was priced
    newest             TIMESTAMP  -- the latest event_time: what the freshness check reads
);
