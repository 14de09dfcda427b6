-- 0041: closed months (docs/finance.md, "Closing a month"). `aispend close YYYY-MM` stores the month's figures
-- and AI lines as they stood; later deliveries still load, closed reports keep these numbers, and
-- `changes_after_close` lists what the new data would change. `aispend reopen` deletes the month's rows here.
-- Written by the command line only, never rebuilt by a run. Amounts in `currency` (the reporting currency then).

CREATE TABLE IF NOT EXISTS closed_months (
    month           DATE PRIMARY KEY,   -- first day of the closed (UTC, by charge day) month
    closed_by       VARCHAR NOT NULL,   -- --by, else the operating-system user who ran the command
    closed_at       TIMESTAMP NOT NULL, -- UTC
    currency        VARCHAR NOT NULL,   -- the reporting currency of the closed figures
    billed_cost     DOUBLE,             -- the month's AI spend as closed: allocated, billed (cash)
    effective_cost  DOUBLE,             -- the same, effective (amortized); never add the two
    lines           BIGINT              -- AI lines of the month as closed
);

CREATE TABLE IF NOT EXISTS closed_figures (
    month           DATE NOT NULL,
    provider        VARCHAR,
    model           VARCHAR,
    task            VARCHAR NOT NULL,
    team            VARCHAR,
    basis           VARCHAR NOT NULL,   -- allocated_cost's basis (usage_share, logs_only, credit, ...)
    billed_cost     DOUBLE,             -- allocated_cost.billed_cost_usd summed over the month's days
    effective_cost  DOUBLE,
    currency        VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS closed_lines (
    month                     DATE NOT NULL,
    x_line_id                 VARCHAR NOT NULL,
    x_source                  VARCHAR,
    x_source_file             VARCHAR,
    provider                  VARCHAR,   -- genai-prices id of the invoice's provider
    service_name              VARCHAR,
    model                     VARCHAR,
    charge_category           VARCHAR,
    charge_day                DATE,      -- UTC date of ChargePeriodStart
    billing_currency          VARCHAR,
    billed_cost               DOUBLE,    -- BilledCost, in billing_currency
    effective_cost            DOUBLE,    -- EffectiveCost (BilledCost where none), in billing_currency
    billed_cost_reporting     DOUBLE,    -- billed_cost at the charge day's rate, in currency
    effective_cost_reporting  DOUBLE,
    currency                  VARCHAR NOT NULL
);

-- Every close and reopen, never deleted: who did what to which month, when.
CREATE TABLE IF NOT EXISTS close_log (
    month        DATE NOT NULL,
    action       VARCHAR NOT NULL,    -- close | reopen
    done_by      VARCHAR NOT NULL,
    done_at      TIMESTAMP NOT NULL,  -- UTC
    billed_cost  DOUBLE,              -- the month's closed billed AI spend at that moment
    currency     VARCHAR
);

-- Per closed month, each AI line the current data has that differs from the line as closed (a mart, rebuilt
-- every run and after each close or reopen).
CREATE TABLE IF NOT EXISTS changes_after_close (
    month                       DATE NOT NULL,
    change                      VARCHAR NOT NULL,  -- added | removed | changed
    x_line_id                   VARCHAR NOT NULL,
    x_source                    VARCHAR,
    x_source_file               VARCHAR,           -- where the current line (or, removed, the closed one) came from
    provider                    VARCHAR,
    service_name                VARCHAR,
    model                       VARCHAR,
    charge_category             VARCHAR,
    charge_day                  DATE,
    billing_currency            VARCHAR,
    closed_billed_cost          DOUBLE,            -- as closed, in billing_currency; NULL when added
    current_billed_cost         DOUBLE,            -- in the data now, in billing_currency; NULL when removed
    billed_change               DOUBLE,            -- current - closed, in billing_currency
    billed_change_reporting     DOUBLE,            -- the same in currency: what the month's billed AI spend would move by
    effective_change_reporting  DOUBLE,
    currency                    VARCHAR NOT NULL
);
