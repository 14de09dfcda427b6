-- 0042: chargeback per month and team (docs/finance.md, "Chargeback"), and the open month's expected invoice
-- (docs/finance.md, "Month to date"). Both rebuilt whole on every run.

CREATE TABLE IF NOT EXISTS chargeback (
    month         DATE NOT NULL,
    team          VARCHAR,                 -- NULL only when no team has any cost that month (all shared)
    cost_center   VARCHAR,                 -- from finance.chargeback.cost_centers; NULL when unmapped
    direct_cost   DECIMAL(18, 2) NOT NULL, -- the allocated AI cost of the team's tasks, rounded to the minor unit
    seats_cost    DECIMAL(18, 2) NOT NULL, -- seats and overage of the team's people (0 where none is loaded)
    shared_cost   DECIMAL(18, 2) NOT NULL, -- its part of the cost no team's task explains, by `rule`
    total_cost    DECIMAL(18, 2) NOT NULL, -- direct + seats + shared; over a month's teams: the month's AI spend
    currency      VARCHAR NOT NULL,
    rule          VARCHAR NOT NULL,        -- proportional | even | owner
    cost_basis    VARCHAR NOT NULL,        -- billed | effective
    is_closed     BOOLEAN NOT NULL         -- from the month's closed figures (they do not move)
);

CREATE TABLE IF NOT EXISTS month_to_date (
    month                 DATE NOT NULL,    -- the open month: the month of the newest day with data
    as_of                 DATE NOT NULL,    -- the newest day counted
    provider              VARCHAR NOT NULL,
    invoiced_cost         DOUBLE,           -- AI lines billed in the month so far (billed, allocated)
    uninvoiced_logged_cost DOUBLE,          -- the logs' priced cost on provider days no AI line covers yet
    unpriced_requests     BIGINT,           -- requests on those days with no price (not in the estimate)
    ratio                 DOUBLE,           -- the provider's invoice / logs over the ratio months
    ratio_low             DOUBLE,           -- the lowest month's ratio
    ratio_high            DOUBLE,           -- the highest month's ratio
    ratio_months          BIGINT,           -- months the ratio is taken from (0: none; ratio 1)
    ratio_basis           VARCHAR,          -- closed_months | complete_months | none
    expected_rest         DOUBLE,           -- uninvoiced_logged_cost x ratio: never added to invoiced_cost
    expected_rest_low     DOUBLE,
    expected_rest_high    DOUBLE,
    currency              VARCHAR NOT NULL
);
