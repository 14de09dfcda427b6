-- `aispend local`: the API-equivalent value of the agents' calls per month and source, the last three months.
SELECT
    strftime(event_time, '%Y-%m') AS month,
    x_source AS source,
    sum(cost_usd) AS cost_usd,
    count(*) AS calls,
    count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls,
    count(DISTINCT run_id) AS sessions
FROM usage_events
WHERE event_time >= (SELECT date_trunc('month', max(event_time)) - INTERVAL 2 MONTH FROM usage_events)
GROUP BY 1, 2
ORDER BY 1, 2
