-- The newest UTC day the people-facing data reaches: what person_monthly and idle_seats judge idleness at.
SELECT max(day) AS as_of FROM (
    SELECT max(CAST(event_time AS DATE)) AS day FROM usage_events WHERE user_id IS NOT NULL
    UNION ALL SELECT max(day) FROM person_activity WHERE record = 'activity'
    UNION ALL SELECT max(snapshot_day) FROM seats
)
