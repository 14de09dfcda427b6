-- 0037: what each person did with a coding tool per UTC day, as the vendor's organization API reports it
-- (Claude Code analytics, Cursor daily usage), and what the vendor bills beyond the seat (Cursor spend).
-- `record` says what a row carries: activity (sessions, lines, commits, PRs, requests), tokens (one model's
-- tokens and the vendor's cost estimate) or spend (usage billed beyond the seat in a billing cycle).
CREATE TABLE IF NOT EXISTS person_activity (
    day                 DATE NOT NULL,      -- UTC day (spend rows: the first day of the billing cycle)
    vendor              VARCHAR NOT NULL,   -- anthropic | cursor
    tool                VARCHAR NOT NULL,   -- claude_code | cursor
    record              VARCHAR NOT NULL,   -- activity | tokens | spend
    identity            VARCHAR,            -- email or API key name (normalized; keyed hash with the switch)
    identity_kind       VARCHAR,            -- email | api_key
    customer_type       VARCHAR,            -- Claude Code: api (billed per token) | subscription (a Claude plan)
    model               VARCHAR,            -- tokens rows: normalized model id
    raw_model           VARCHAR,
    is_active           BOOLEAN,
    sessions            BIGINT,
    requests            BIGINT,
    lines_added         BIGINT,
    lines_removed       BIGINT,
    commits             BIGINT,
    pull_requests       BIGINT,
    input_tokens        BIGINT,             -- uncached input
    cache_read_tokens   BIGINT,
    cache_write_tokens  BIGINT,
    output_tokens       BIGINT,
    estimated_cost_usd  DOUBLE,             -- tokens rows: the vendor's own estimate (not a bill)
    billed_usd          DOUBLE,             -- spend rows: billed beyond the plan's included usage, this cycle so far
    x_source            VARCHAR NOT NULL,
    x_source_file       VARCHAR NOT NULL
);
