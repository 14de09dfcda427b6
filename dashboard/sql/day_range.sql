-- First and last day with data: billed spend, or the request logs when no invoices are loaded yet, or the task
-- runs. An unpublished snapshot reads as an empty table, so its min and max are NULL and the next one counts.
SELECT first_day, last_day
FROM (
    SELECT 1 AS preference, min(day) AS first_day, max(day) AS last_day FROM spend_daily
    UNION ALL
    SELECT 2, min(day), max(day) FROM usage_daily
    UNION ALL
    SELECT 3, min(day), max(day) FROM task_daily
)
WHERE last_day IS NOT NULL
ORDER BY preference
LIMIT 1
