-- What one run of each task is worth in people's time (the task catalog).
SELECT task, description, human_minutes, hourly_rate_usd, review_minutes
FROM tasks
