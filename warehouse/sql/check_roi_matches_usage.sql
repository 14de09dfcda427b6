-- task_roi must account for every request and every priced amount in usage_events. The logs' prices are in US
-- dollars and task_roi in the reporting currency (parameter): the events' cost is converted as the marts convert
-- it, each UTC day at the latest USD rate published on or before it (docs/finance.md, "Currency").
WITH usd AS (SELECT day, rate FROM fx_rates WHERE currency = 'USD'),
days AS (SELECT CAST(event_time AS DATE) AS day, sum(cost_usd) AS cost FROM usage_events GROUP BY 1),
rated AS (SELECT d.cost * u.rate AS cost FROM days d ASOF LEFT JOIN usd u ON d.day >= u.day)
SELECT
    (SELECT coalesce(sum(request_count), 0) FROM usage_events) AS usage_requests,
    (SELECT coalesce(sum(requests), 0) FROM task_roi) AS roi_requests,
    CASE WHEN $1 = 'USD' THEN (SELECT coalesce(sum(cost_usd), 0) FROM usage_events)
         ELSE (SELECT coalesce(sum(cost), 0) FROM rated) END AS usage_cost_usd,
    (SELECT coalesce(sum(ai_cost_usd), 0) FROM task_roi) AS roi_cost_usd
