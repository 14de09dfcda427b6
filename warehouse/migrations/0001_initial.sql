-- 0001: the first tables of the aispend warehouse. Never edit an applied migration: add a new file.
-- Times are TIMESTAMP holding UTC. Money is DOUBLE in the line's currency (cost_lines) or US dollars (_usd).

CREATE TABLE IF NOT EXISTS cost_lines (
    x_line_id                 VARCHAR NOT NULL,   -- unique per billed line: the source's own id, or a hash of the line
    BillingAccountId          VARCHAR,
    BillingAccountName        VARCHAR,
    SubAccountId              VARCHAR,
    SubAccountName            VARCHAR,
    ProviderName              VARCHAR,
    PublisherName             VARCHAR,
    InvoiceIssuerName         VARCHAR,
    InvoiceId                 VARCHAR,
    BillingPeriodStart        TIMESTAMP,
    BillingPeriodEnd          TIMESTAMP,
    ChargePeriodStart         TIMESTAMP,
    ChargePeriodEnd           TIMESTAMP,
    ChargeCategory            VARCHAR,
    ChargeClass               VARCHAR,
    ChargeDescription         VARCHAR,
    ChargeFrequency           VARCHAR,
    PricingCategory           VARCHAR,
    BilledCost                DOUBLE,
    EffectiveCost             DOUBLE,
    ListCost                  DOUBLE,
    ContractedCost            DOUBLE,
    BillingCurrency           VARCHAR,
    ConsumedQuantity          DOUBLE,
    ConsumedUnit              VARCHAR,
    PricingQuantity           DOUBLE,
    PricingUnit               VARCHAR,
    ServiceName               VARCHAR,
    ServiceCategory           VARCHAR,
    ServiceSubcategory        VARCHAR,
    SkuId                     VARCHAR,
    SkuPriceId                VARCHAR,
    SkuMeter                  VARCHAR,
    RegionId                  VARCHAR,
    RegionName                VARCHAR,
    AvailabilityZone          VARCHAR,
    ResourceId                VARCHAR,
    ResourceName              VARCHAR,
    ResourceType              VARCHAR,
    CommitmentDiscountId      VARCHAR,
    CommitmentDiscountType    VARCHAR,
    CommitmentDiscountStatus  VARCHAR,
    Tags                      VARCHAR,            -- JSON object text
    x_model                   VARCHAR,            -- normalized model id when the line is model usage
    x_token_type              VARCHAR,            -- input | output | cache_read | cache_write
    x_is_ai                   BOOLEAN,            -- AI and Machine Learning service, model usage or accelerator compute
    x_source                  VARCHAR NOT NULL,   -- the config source name
    x_source_file             VARCHAR NOT NULL    -- the file or API page the line came from
);

CREATE TABLE IF NOT EXISTS usage_events (
    event_time          TIMESTAMP NOT NULL,       -- UTC
    provider            VARCHAR NOT NULL,         -- openai | anthropic | aws | azure | google | ...
    model               VARCHAR,                  -- normalized: the id the price table and cost_lines.x_model use
    raw_model           VARCHAR,                  -- as logged
    task                VARCHAR NOT NULL,         -- 'unattributed' when the log names none
    run_id              VARCHAR,
    team                VARCHAR,
    user_id             VARCHAR,
    project             VARCHAR,
    request_id          VARCHAR,
    request_count       BIGINT NOT NULL,          -- 1 per request; aggregated sources keep their count
    input_tokens        BIGINT NOT NULL,          -- uncached input only
    cache_read_tokens   BIGINT NOT NULL,
    cache_write_tokens  BIGINT NOT NULL,
    output_tokens       BIGINT NOT NULL,          -- includes reasoning tokens
    reasoning_tokens    BIGINT NOT NULL,
    is_batch            BOOLEAN NOT NULL,
    status              VARCHAR NOT NULL,         -- ok | error
    outcome             VARCHAR,                  -- success | failure | NULL
    latency_ms          DOUBLE,
    cost_usd            DOUBLE,                   -- NULL when unpriced, never 0 for unknown
    price_source        VARCHAR,                  -- where the price came from; NULL when unpriced
    x_source            VARCHAR NOT NULL,
    x_source_file       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS tasks (
    task               VARCHAR PRIMARY KEY,
    description        VARCHAR,
    human_minutes      DOUBLE NOT NULL,           -- time a person takes for one run
    hourly_rate_usd    DOUBLE NOT NULL,
    review_minutes     DOUBLE NOT NULL,           -- human time still spent checking one AI run
    latency_sensitive  BOOLEAN NOT NULL,
    eligible_models    VARCHAR[]                  -- NULL: any model
);

CREATE TABLE IF NOT EXISTS prices (
    provider                  VARCHAR NOT NULL,
    model                     VARCHAR NOT NULL,
    valid_from                DATE NOT NULL,      -- inclusive
    valid_to                  DATE,               -- exclusive; NULL: still in force
    input_usd_per_mtok        DOUBLE,
    output_usd_per_mtok       DOUBLE,
    cache_read_usd_per_mtok   DOUBLE,
    cache_write_usd_per_mtok  DOUBLE,
    price_source              VARCHAR NOT NULL    -- 'genai-prices <version>' or 'override'
);

CREATE TABLE IF NOT EXISTS ingest_log (
    source         VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    location       VARCHAR NOT NULL,              -- file path, s3:// key or API page
    checksum       VARCHAR,                       -- sha256 of the bytes read
    price_version  VARCHAR,                       -- usage sources: the price table they were priced with
    rows           BIGINT,
    status         VARCHAR NOT NULL,              -- loaded | replaced | quarantined
    error          VARCHAR,                       -- why it was quarantined: file, row or column, reason
    loaded_at      TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS spend_daily (
    day               DATE NOT NULL,              -- ChargePeriodStart's UTC date
    provider          VARCHAR,                    -- ProviderName
    service_name      VARCHAR,
    service_category  VARCHAR,
    sub_account_id    VARCHAR,
    model             VARCHAR,                    -- x_model
    charge_category   VARCHAR,
    is_ai             BOOLEAN,
    billing_currency  VARCHAR,
    billed_cost       DOUBLE,                     -- cash, in billing_currency
    effective_cost    DOUBLE,                     -- amortized, in billing_currency
    line_count        BIGINT
);

CREATE TABLE IF NOT EXISTS usage_daily (
    day                 DATE NOT NULL,
    provider            VARCHAR,
    model               VARCHAR,
    task                VARCHAR,
    team                VARCHAR,
    requests            BIGINT,
    error_requests      BIGINT,
    unpriced_requests   BIGINT,
    input_tokens        BIGINT,
    cache_read_tokens   BIGINT,
    cache_write_tokens  BIGINT,
    output_tokens       BIGINT,
    reasoning_tokens    BIGINT,
    priced_tokens       BIGINT,
    total_tokens        BIGINT,
    cost_usd            DOUBLE                    -- priced requests only
);

CREATE TABLE IF NOT EXISTS task_daily (
    day                 DATE NOT NULL,            -- the UTC date of the run's first request
    task                VARCHAR NOT NULL,
    team                VARCHAR,
    runs                BIGINT,
    successes           BIGINT,
    failures            BIGINT,
    requests            BIGINT,
    error_requests      BIGINT,
    unpriced_requests   BIGINT,
    ai_cost_usd         DOUBLE
);

CREATE TABLE IF NOT EXISTS task_roi (
    task                    VARCHAR NOT NULL,
    description             VARCHAR,
    runs                    BIGINT,
    successes               BIGINT,
    failures                BIGINT,
    success_rate            DOUBLE,
    requests                BIGINT,
    unpriced_requests       BIGINT,
    ai_cost_usd             DOUBLE,
    cost_per_success_usd    DOUBLE,
    human_minutes           DOUBLE,
    hourly_rate_usd         DOUBLE,
    review_minutes          DOUBLE,
    human_cost_avoided_usd  DOUBLE,
    review_cost_usd         DOUBLE,
    net_savings_usd         DOUBLE,
    roi                     DOUBLE
);
