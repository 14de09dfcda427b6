-- 0010: the latest result of every check, evaluated at the end of every run over the data as it then stands
-- (pipelines/checks.py), so a check's verdict changes only when the data does; the Data health page shows it.
-- Replaced whole on each evaluation, one row per check and asset.

CREATE TABLE IF NOT EXISTS check_results (
    check_name    VARCHAR NOT NULL,   -- e.g. no_null_cost_on_usage_lines
    asset         VARCHAR NOT NULL,   -- the table it judges: cost_lines, usage_events, task_roi, ...
    severity      VARCHAR NOT NULL,   -- 'error' (the numbers are wrong: the run fails) | 'warn' (someone should look)
    passed        BOOLEAN NOT NULL,
    description   VARCHAR NOT NULL,   -- what was found, in one sentence
    offending     BIGINT NOT NULL,    -- how many rows, files or sources are at fault (0 when passed)
    details       VARCHAR,            -- the first offending rows, as JSON lines (one object per line)
    evaluated_at  TIMESTAMP NOT NULL, -- UTC
    changed_at    TIMESTAMP NOT NULL  -- UTC, when the check last went from passing to failing or back
);
