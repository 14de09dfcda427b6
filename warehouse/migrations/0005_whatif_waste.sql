-- 0005: model_whatif (each task's real token mix repriced on another model, next to how that model did) and
-- waste (spend that bought nothing or more than it had to, per day and category). Money in US dollars.

CREATE TABLE IF NOT EXISTS model_whatif (
    task                          VARCHAR,   -- the task (catalog id, or as logged; 'unattributed' included)
    provider                      VARCHAR,   -- the current model's genai-prices provider id
    model                         VARCHAR,   -- the current model (normalized)
    alt_provider                  VARCHAR,   -- the alternative's provider
    alt_model                     VARCHAR,   -- the alternative model (a price-table id)
    is_eligible_listed            BOOLEAN,   -- true: from the task's eligible_models; false: a most-used model
    requests                      BIGINT,    -- requests of the task on the current model (every status)
    unpriced_requests             BIGINT,    -- of those, requests with no price (cost_usd NULL)
    input_tokens                  BIGINT,    -- the mix repriced: uncached input
    cache_read_tokens             BIGINT,
    cache_write_tokens            BIGINT,
    output_tokens                 BIGINT,
    current_cost_usd              DOUBLE,    -- sum cost_usd of the priced requests; NULL when none was priced
    alt_cost_usd                  DOUBLE,    -- the same tokens at the alternative's price in force each day; NULL when some day has none
    alt_unpriced_requests         BIGINT,    -- requests falling on days the alternative has no price
    savings_usd                   DOUBLE,    -- current_cost_usd - alt_cost_usd; NULL unless both sides priced every request
    savings_pct                   DOUBLE,    -- savings_usd / current_cost_usd (0.25 = 25% cheaper); NULL when current is 0 or unknown
    alt_cache_read_as_input       BOOLEAN,   -- the mix read from the cache but the alternative has no cache-read discount
    current_runs                  BIGINT,    -- runs of the task served mainly by the current model
    current_success_rate          DOUBLE,    -- successes / current_runs
    current_cost_per_success_usd  DOUBLE,    -- priced cost of those runs / successes; NULL if any request unpriced or no success
    alt_runs                      BIGINT,    -- runs of the task served mainly by the alternative (observed); 0: never ran on it
    alt_success_rate              DOUBLE,    -- observed; NULL when alt_runs = 0
    alt_cost_per_success_usd      DOUBLE     -- observed; NULL when alt_runs = 0, nothing succeeded, or unpriced
);

CREATE TABLE IF NOT EXISTS waste (
    day                DATE,      -- UTC date of the requests (event_time) or of the billed line (ChargePeriodStart)
    category           VARCHAR,   -- failed_requests | retries | batch_eligible | caching_opportunity | idle_provisioned_throughput | idle_ai_compute
    provider           VARCHAR,   -- genai-prices provider id (billed lines: from ProviderName + ServiceName)
    model              VARCHAR,   -- normalized model; billed lines: x_model (NULL for instances)
    task               VARCHAR,   -- NULL for idle capacity (billed, not requested)
    team               VARCHAR,   -- NULL for idle capacity
    requests           BIGINT,    -- requests concerned; NULL for idle capacity
    affected_cost_usd  DOUBLE,    -- what those requests or lines cost (priced cost_usd, or BilledCost)
    cost_usd           DOUBLE,    -- the waste: spend (is_estimate false) or estimated avoidable saving (true); NULL when unpriced
    is_estimate        BOOLEAN,   -- true: a modelled saving (batch, caching); false: recorded spend
    explanation        VARCHAR    -- one sentence saying what the category counts
);
