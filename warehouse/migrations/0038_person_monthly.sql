-- 0038: every person's AI bill per month and vendor: the seat, what was billed beyond it, and what the use would
-- have cost at API prices, with activity, idleness and plan fit. Rebuilt whole on each run.
CREATE TABLE IF NOT EXISTS person_monthly (
    month                DATE NOT NULL,      -- first day of the UTC month
    person               VARCHAR,            -- from the people mapping, else the identity itself; NULL: the organization (pooled seats, org-level usage)
    team                 VARCHAR,
    is_mapped            BOOLEAN,            -- the people mapping names this person
    vendor               VARCHAR NOT NULL,   -- anthropic | openai | github | cursor | a provider id for API use
    plan                 VARCHAR,            -- the seat's plan; 'api' for pay-as-you-go use with no seat
    seats                BIGINT NOT NULL,    -- seats held in the month (0: use without a seat)
    seat_cost_usd        DOUBLE,             -- seat price x seats, prorated to the days held; NULL when not priced in USD
    seat_cost_basis      VARCHAR,            -- subscriptions | plan_list_price | source_option
    seat_on_invoice      BOOLEAN,            -- a loaded bill carries seat lines of this vendor and month
    usage_cost_usd       DOUBLE,             -- billed beyond the seat (see usage_cost_basis)
    usage_cost_basis     VARCHAR,            -- logs | vendor_billed | vendor_estimate | invoice
    not_on_bills_usd     DOUBLE,             -- the seat cost with no seat line on a loaded bill, plus vendor_billed usage: what budgets add to the bills
    api_equivalent_usd   DOUBLE,             -- the tokens used, at the price table's rates (NULL: no tokens known)
    unpriced_tokens      BIGINT,             -- tokens of models with no price (not in api_equivalent_usd)
    active_days          BIGINT,
    sessions             BIGINT,
    requests             BIGINT,
    lines_added          BIGINT,
    lines_removed        BIGINT,
    commits              BIGINT,
    pull_requests        BIGINT,
    last_activity_day    DATE,               -- newest day with activity up to the month's end
    is_idle_seat         BOOLEAN,            -- a paid seat with no activity in the 30 days to the month's end (or as_of); NULL: no source sees this vendor's activity
    activity_evidence    VARCHAR,            -- the sources whose activity was looked at
    plan_price_usd       DOUBLE,             -- this plan's monthly list price per seat
    next_plan            VARCHAR,
    next_plan_price_usd  DOUBLE,
    plan_fit             VARCHAR             -- underused | fits | outgrown; NULL when it cannot be told
);
