-- 0021: measured time saved. work_item_links (requests per work item and day), evidence_items (one row per
-- work item: its minutes and whether AI assisted it), task_evidence (AI-assisted against baseline items per task
-- and per task and team, with 95% intervals and a verdict), task_evidence_weekly (for the charts), and task_roi
-- saying what its savings rest on. docs/evidence.md explains the designs, the intervals and the verdicts.

CREATE TABLE IF NOT EXISTS work_item_links (
    day                 DATE NOT NULL,     -- UTC day of the requests
    work_item_id        VARCHAR NOT NULL,
    task                VARCHAR NOT NULL,  -- the requests' task
    requests            BIGINT,
    unpriced_requests   BIGINT,
    cost_usd            DOUBLE             -- priced requests only; NULL when none was priced
);

CREATE TABLE IF NOT EXISTS evidence_items (
    work_item_id        VARCHAR NOT NULL,
    task                VARCHAR NOT NULL,
    team                VARCHAR,
    day                 DATE,              -- UTC day the item closed (opened, while open)
    week                DATE,              -- Monday of that day's ISO week
    handling_minutes    DOUBLE,
    elapsed_minutes     DOUBLE,            -- closed_at - opened_at
    minutes_basis       VARCHAR,           -- handling | elapsed: the task's measure (handling where any item has it)
    minutes             DOUBLE,            -- the item's minutes on that basis; NULL: not measured (open, or no such figure)
    ai_assisted         BOOLEAN NOT NULL,
    ai_basis            VARCHAR NOT NULL,  -- record (its ai_assisted column) | linked_run (a request named it) | none
    linked_requests     BIGINT,            -- requests that named the item
    linked_cost_usd     DOUBLE,            -- their priced cost; NULL when none was priced
    reopened            BOOLEAN,
    escalated           BOOLEAN,
    reverted            BOOLEAN,
    csat                DOUBLE,
    in_period           BOOLEAN NOT NULL   -- inside the config's evidence period (all items when none is set)
);

CREATE TABLE IF NOT EXISTS task_evidence (
    task                        VARCHAR NOT NULL,
    team                        VARCHAR,          -- NULL on the task's row over every team
    grain                       VARCHAR NOT NULL, -- task | task_team
    period_start                DATE,             -- first and last day of the items counted
    period_end                  DATE,
    minutes_basis               VARCHAR,          -- handling | elapsed
    items_ai                    BIGINT,           -- measured AI-assisted items
    items_baseline              BIGINT,           -- measured items done without AI
    items_linked                BIGINT,           -- AI-assisted because a request named them
    first_ai_day                DATE,             -- the first AI-assisted item's day (adoption)
    mean_minutes_ai             DOUBLE,
    mean_minutes_baseline       DOUBLE,
    median_minutes_ai           DOUBLE,
    median_minutes_baseline     DOUBLE,
    minutes_saved               DOUBLE,           -- mean baseline - mean AI-assisted minutes
    minutes_saved_low           DOUBLE,           -- its interval (confidence, interval_method); NULL: too few items
    minutes_saved_high          DOUBLE,
    confidence                  DOUBLE,           -- 0.95
    interval_method             VARCHAR,          -- welch_t: Welch's t interval for a difference of means
    method                      VARCHAR,          -- concurrent | before_after (the design); NULL: one side empty
    verdict                     VARCHAR NOT NULL, -- saves_time | no_measurable_difference | costs_time | insufficient_evidence
    reopen_rate_ai              DOUBLE,           -- share of rated items (reopened not NULL)
    reopen_rate_baseline        DOUBLE,
    reopen_rate_change          DOUBLE,           -- AI minus baseline; above 0 is worse
    reopen_rate_change_low      DOUBLE,
    reopen_rate_change_high     DOUBLE,
    escalation_rate_ai          DOUBLE,
    escalation_rate_baseline    DOUBLE,
    escalation_rate_change      DOUBLE,
    escalation_rate_change_low  DOUBLE,
    escalation_rate_change_high DOUBLE,
    revert_rate_ai              DOUBLE,
    revert_rate_baseline        DOUBLE,
    revert_rate_change          DOUBLE,
    revert_rate_change_low      DOUBLE,
    revert_rate_change_high     DOUBLE,
    csat_ai                     DOUBLE,           -- mean CSAT of rated items (1-5)
    csat_baseline               DOUBLE,
    csat_change                 DOUBLE,           -- AI minus baseline; below 0 is worse
    csat_change_low             DOUBLE,
    csat_change_high            DOUBLE,
    quality_flag                VARCHAR,          -- what is measurably worse with AI (reopened, escalated, reverted, csat); NULL: nothing
    hourly_rate_usd             DOUBLE,           -- from the task catalog
    ai_cost_usd                 DOUBLE,           -- allocated AI cost (billed) of the task's runs in the period
    review_cost_usd             DOUBLE,           -- runs in the period x review_minutes x hourly rate
    ai_cost_per_item_usd        DOUBLE,           -- ai_cost_usd / items_ai
    review_cost_per_item_usd    DOUBLE,           -- review_cost_usd / items_ai
    measured_net_savings_usd    DOUBLE,           -- items_ai x minutes_saved / 60 x hourly rate - ai_cost_usd - review_cost_usd
    measured_net_savings_low_usd  DOUBLE,         -- the same at minutes_saved_low
    measured_net_savings_high_usd DOUBLE          -- the same at minutes_saved_high
);

CREATE TABLE IF NOT EXISTS task_evidence_weekly (
    week                        DATE NOT NULL,    -- Monday (ISO week) of the items' day
    task                        VARCHAR NOT NULL,
    team                        VARCHAR,          -- NULL on the task's rows over every team
    grain                       VARCHAR NOT NULL, -- task | task_team
    items_ai                    BIGINT,
    items_baseline              BIGINT,
    ai_share                    DOUBLE,           -- items_ai / (items_ai + items_baseline)
    median_minutes_ai           DOUBLE,
    median_minutes_baseline     DOUBLE
);

ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS roi_basis VARCHAR;                      -- measured | catalog_estimate
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS verdict VARCHAR;                        -- task_evidence's; NULL: no work items
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS measured_minutes_saved DOUBLE;          -- task_evidence.minutes_saved
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS measured_minutes_saved_low DOUBLE;
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS measured_minutes_saved_high DOUBLE;
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS measured_net_savings_usd DOUBLE;        -- items_ai x minutes saved x rate - cost - review
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS measured_net_savings_low_usd DOUBLE;
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS measured_net_savings_high_usd DOUBLE;
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS break_even_minutes DOUBLE;              -- minutes a run must save to pay for its AI cost and review
ALTER TABLE task_roi ADD COLUMN IF NOT EXISTS reported_net_savings_usd DOUBLE;        -- measured where roi_basis is, else allocated_net_savings_usd
