-- Measured AI-assisted work items per task closed in the period (and team): what task_roi's measured net savings
-- multiply the measured minutes saved by, for the period's own AI cost. Parameters: first day, last day, team, team.
SELECT task, CAST(count(*) AS BIGINT) AS items_ai
FROM evidence_items
WHERE ai_assisted AND minutes IS NOT NULL AND day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
GROUP BY task
ORDER BY task
