-- The newest row of each source in usage_events (event_time, from the per-day sums in source_daily) and
-- cost_lines (ChargePeriodEnd: how far the invoice reaches), for the freshness checks. The check compares them
-- with now and the configured sources.
SELECT 'usage_events' AS "table", x_source AS source, max(newest) AS newest, sum("rows") AS "rows"
FROM source_daily
GROUP BY x_source
UNION ALL
SELECT 'cost_lines', x_source, max(ChargePeriodEnd), count(*)
FROM cost_lines
GROUP BY x_source
ORDER BY 1, 2
