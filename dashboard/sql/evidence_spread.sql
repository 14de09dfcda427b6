-- How one task's measured minutes spread, AI-assisted and baseline apart, for items of the period (and team):
-- what the Evidence page's box plot draws (5th, 25th, 50th, 75th, 95th percentiles and the mean).
-- Parameters: task, first day, last day, team, team.
SELECT ai_assisted,
       CAST(count(*) AS BIGINT)                       AS items,
       CAST(quantile_cont(minutes, 0.05) AS DOUBLE)   AS p05,
       CAST(quantile_cont(minutes, 0.25) AS DOUBLE)   AS q1,
       CAST(quantile_cont(minutes, 0.5) AS DOUBLE)    AS median,
       CAST(quantile_cont(minutes, 0.75) AS DOUBLE)   AS q3,
       CAST(quantile_cont(minutes, 0.95) AS DOUBLE)   AS p95,
       CAST(avg(minutes) AS DOUBLE)                   AS mean
FROM evidence_items
WHERE task = ? AND minutes IS NOT NULL AND day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
GROUP BY ai_assisted
ORDER BY ai_assisted
