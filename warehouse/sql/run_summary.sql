-- What `aispend run` prints at the end: the headline totals a finance lead checks first.
SELECT
    (SELECT count(*) FROM cost_lines) AS cost_lines,
    (SELECT coalesce(sum(BilledCost), 0) FROM cost_lines WHERE BillingCurrency = 'USD') AS billed_usd,
    (SELECT coalesce(sum(EffectiveCost), 0) FROM cost_lines WHERE BillingCurrency = 'USD') AS effective_usd,
    (SELECT count(DISTINCT BillingCurrency) FROM cost_lines) AS currencies,
    (SELECT count(*) FROM usage_events) AS usage_rows,
    (SELECT coalesce(sum(request_count), 0) FROM usage_events) AS requests,
    (SELECT coalesce(sum(request_count) FILTER (WHERE cost_usd IS NULL), 0) FROM usage_events) AS unpriced_requests,
    (SELECT coalesce(sum(cost_usd), 0) FROM usage_events) AS usage_cost_usd,
    (SELECT count(*) FROM tasks) AS tasks,
    (SELECT coalesce(sum(net_savings_usd), 0) FROM task_roi) AS net_savings_usd
