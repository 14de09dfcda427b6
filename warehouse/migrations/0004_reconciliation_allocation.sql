-- 0004: reconciliation (invoice vs logs with the gap in named parts), allocated_cost (the invoice's AI cost
-- shared to tasks and teams), and task_roi / task_daily on allocated cost. All money in US dollars.

CREATE TABLE IF NOT EXISTS reconciliation (
    provider                    VARCHAR,   -- genai-prices id (invoice: ProviderName + ServiceName; logs: provider)
    model                       VARCHAR,   -- x_model / usage model; NULL: lines or requests with no model
    month                       DATE,      -- first day of the UTC month
    day                         DATE,      -- UTC day where the provider bills that month per day; NULL: month-level
    billed_cost_usd             DOUBLE,    -- USD model-usage lines + AI Credit lines (BilledCost); 0 when none
    logged_cost_usd             DOUBLE,    -- sum cost_usd of priced requests; NULL when none was priced
    difference_usd              DOUBLE,    -- billed_cost_usd - coalesce(logged_cost_usd, 0)
    difference_pct              DOUBLE,    -- 100 x difference_usd / billed_cost_usd; NULL when billed is 0
    credits_usd                 DOUBLE,    -- Credit lines (negative)
    discount_usd                DOUBLE,    -- BilledCost - ListCost of the usage lines (invoice rate below list)
    unpriced_models_usd         DOUBLE,    -- invoice cost of what the logs could not price
    missing_from_logs_usd       DOUBLE,    -- invoice tokens beyond logged tokens x invoice list rate per type
    missing_from_invoice_usd    DOUBLE,    -- minus the logged cost where no usage line was billed
    unexplained_usd             DOUBLE,    -- the rest: the six parts add up to difference_usd
    invoice_lines               BIGINT,    -- USD lines in scope
    non_usd_lines               BIGINT,    -- lines in scope billed in another currency (left out of every sum)
    logged_requests             BIGINT,
    unpriced_requests           BIGINT,
    invoice_input_tokens        DOUBLE,    -- ConsumedQuantity of the USD usage lines per x_token_type
    invoice_cache_read_tokens   DOUBLE,
    invoice_cache_write_tokens  DOUBLE,
    invoice_output_tokens       DOUBLE,
    logged_input_tokens         BIGINT,    -- usage_events tokens of every request, priced or not
    logged_cache_read_tokens    BIGINT,
    logged_cache_write_tokens   BIGINT,
    logged_output_tokens        BIGINT
);

CREATE TABLE IF NOT EXISTS allocated_cost (
    day                 DATE NOT NULL,     -- UTC day of the requests (shared lines) or of the charge (unattributed)
    provider            VARCHAR,           -- genai-prices id
    model               VARCHAR,           -- NULL for lines naming no model
    task                VARCHAR NOT NULL,  -- 'unattributed' for cost no task used
    team                VARCHAR,           -- NULL for unattributed cost
    basis               VARCHAR NOT NULL,  -- usage_share | token_share | no_usage | unknown_model | not_model_usage | credit | logs_only
    billed_cost_usd     DOUBLE,            -- share of the USD AI lines' BilledCost; logs_only: the logs' priced cost (NULL unpriced)
    effective_cost_usd  DOUBLE             -- same shares of EffectiveCost; never add to billed_cost_usd
);

ALTER TABLE task_daily ADD COLUMN IF NOT EXISTS allocated_cost_usd DOUBLE;               -- from allocated_cost, billed
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS allocated_cost_usd DOUBLE;                 -- invoice-true AI cost (billed)
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS allocated_cost_per_success_usd DOUBLE;     -- allocated_cost_usd / successes
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS allocated_net_savings_usd DOUBLE;          -- avoided - allocated - review
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS allocated_roi DOUBLE;                      -- net / (allocated + review)
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS loses_money BOOLEAN;                       -- allocated_net_savings_usd < 0
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS loss_rank BIGINT;                          -- 1 = loses the most; NULL otherwise
