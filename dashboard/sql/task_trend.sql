-- One task per day: runs, successes, priced and allocated cost (reporting currency), allocated cost per success.
-- Parameters: first day, last day, task, team twice.
SELECT day,
       CAST(sum(runs) AS BIGINT)      AS runs,
       CAST(sum(successes) AS BIGINT) AS successes,
       sum(ai_cost_usd)               AS ai_cost_usd,
       sum(allocated_cost_usd)        AS allocated_cost_usd,
       sum(allocated_cost_usd) / nullif(sum(successes), 0) AS allocated_cost_per_success_usd
FROM task_daily
WHERE day BETWEEN ? AND ? AND task = ? AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
GROUP BY day
ORDER BY day
