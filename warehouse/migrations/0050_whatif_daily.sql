-- 0050: model_whatif's per-day pre-aggregates. The what-if repricing and the observed runs need only per-day
-- sums of the events; kept as marts by UTC day, a run that adds a day rebuilds that day's sums, and
-- model_whatif (a rollup rebuilt whole) reads these small tables instead of every event of the history
-- (docs/scaling.md). Money in the reporting currency (`currency`), like every mart.

CREATE TABLE IF NOT EXISTS whatif_mix_daily (
    day                    DATE,      -- UTC date of the requests (event_time)
    task                   VARCHAR,
    provider               VARCHAR,   -- genai-prices provider id
    model                  VARCHAR,   -- normalized model (requests with no model are left out)
    is_batch               BOOLEAN,
    service_tier           VARCHAR,
    prompt_bucket          INTEGER,   -- how many of the price table's long-context thresholds the mean prompt per request exceeds
    requests               BIGINT,    -- sum of request_count (every status)
    unpriced_requests      BIGINT,    -- of those, requests with no price (cost_usd NULL)
    input_tokens           BIGINT,
    cache_read_tokens      BIGINT,
    cache_write_tokens     BIGINT,
    output_tokens          BIGINT,
    cache_write_1h_tokens  BIGINT,    -- the 1-hour part of cache_write_tokens
    cost_usd               DOUBLE,    -- sum of the priced requests' cost_usd; NULL when none was priced
    currency               VARCHAR    -- the reporting currency cost_usd is in
);

CREATE TABLE IF NOT EXISTS whatif_runs_daily (
    day                DATE,      -- UTC date a run started (its first request)
    task               VARCHAR,
    provider           VARCHAR,   -- the model that served most of the run's requests (ties: the one used first)
    model              VARCHAR,
    runs               BIGINT,
    successes          BIGINT,    -- runs whose last logged outcome is 'success'
    unpriced_requests  BIGINT,    -- requests of those runs with no price
    cost_usd           DOUBLE,    -- the runs' whole priced cost
    currency           VARCHAR
);
