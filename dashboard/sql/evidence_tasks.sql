-- task_evidence for a view: each task's row over every team, or one team's rows; optionally one task.
-- Parameters: team, team, task, task.
SELECT *
FROM task_evidence
WHERE CASE WHEN CAST(? AS VARCHAR) IS NULL THEN grain = 'task' ELSE grain = 'task_team' AND team = ? END
  AND (CAST(? AS VARCHAR) IS NULL OR task = ?)
ORDER BY task
