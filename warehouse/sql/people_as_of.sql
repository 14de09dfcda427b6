-- The newest UTC day the people-facing data reaches: what person_monthly and idle_seats judge idleness at.
SELECT max(day) AS as_of FROM (
    SELECT max(day) AS day FROM person_usage_daily
    UNION ALL SELECT max(day) FROM person_activity WHERE record = 'activity'
    UNION ALL SELECT max(snapshot_day) FROM seats
)
