-- The newest row of each source in usage_events (event_time) and cost_lines (ChargePeriodEnd: how far the
-- invoice reaches), for the freshness checks. The check compares them with now and the configured sources.
SELECT 'usage_events' AS "table", x_source AS source, max(event_time) AS newest, count(*) AS "rows"
FROM usage_events
GROUP BY x_source
UNION ALL
SELECT 'cost_lines', x_source, max(ChargePeriodEnd), count(*)
FROM cost_lines
GROUP BY x_source
ORDER BY 1, 2
