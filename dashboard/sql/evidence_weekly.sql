-- One task's weekly medians and AI share (over every team, or one team's) for weeks touching the period.
-- Parameters: task, team, team, first day, last day.
SELECT week, items_ai, items_baseline, ai_share, median_minutes_ai, median_minutes_baseline
FROM task_evidence_weekly
WHERE task = ?
  AND CASE WHEN CAST(? AS VARCHAR) IS NULL THEN grain = 'task' ELSE grain = 'task_team' AND team = ? END
  AND week + INTERVAL 6 DAY >= ? AND week <= ?
ORDER BY week
