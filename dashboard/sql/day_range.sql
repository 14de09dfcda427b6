-- First and last day of one daily mart; the parameter names it (spend_daily, usage_daily or task_daily).
SELECT min(day) AS first_day, max(day) AS last_day
FROM query_table(?)
