-- task_daily summed per task over the period: pipelines.transforms.roi.task_roi then gets one row per task, not
-- every (day, task, team) row (68k for a year at 10M events). SQL's sum skips NULLs and is NULL when every value
-- is: the same as task_roi's priced sums, so the figures do not change. Parameters: first day, last day, team twice.
SELECT task,
       CAST(sum(runs) AS BIGINT)              AS runs,
       CAST(sum(successes) AS BIGINT)         AS successes,
       CAST(sum(failures) AS BIGINT)          AS failures,
       CAST(sum(requests) AS BIGINT)          AS requests,
       CAST(sum(error_requests) AS BIGINT)    AS error_requests,
       CAST(sum(unpriced_requests) AS BIGINT) AS unpriced_requests,
       sum(ai_cost_usd)                       AS ai_cost_usd,
       sum(allocated_cost_usd)                AS allocated_cost_usd
FROM task_daily
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
GROUP BY task
ORDER BY task
