-- Teams that ran tasks or hold seats and tools (person_monthly), for the team filter.
SELECT DISTINCT team FROM (
    SELECT team FROM task_daily
    UNION ALL
    SELECT team FROM person_monthly
)
WHERE team IS NOT NULL
ORDER BY team
