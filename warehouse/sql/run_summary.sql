-- What `aispend run` prints at the end: the headline totals a finance lead checks first. A cost no line carries
-- is NULL (unknown), never 0: an Azure actual-cost export has no effective cost, an amortized one no billed cost.
SELECT
    (SELECT count(*) FROM cost_lines) AS cost_lines,
    (SELECT count(*) FROM cost_lines WHERE BillingCurrency = 'USD') AS usd_lines,
    (SELECT sum(BilledCost) FROM cost_lines WHERE BillingCurrency = 'USD') AS billed_usd,
    (SELECT count(*) FROM cost_lines WHERE BillingCurrency = 'USD' AND BilledCost IS NULL) AS lines_without_billed,
    (SELECT sum(EffectiveCost) FROM cost_lines WHERE BillingCurrency = 'USD') AS effective_usd,
    (SELECT count(*) FROM cost_lines WHERE BillingCurrency = 'USD' AND EffectiveCost IS NULL) AS lines_without_effective,
    (SELECT count(DISTINCT BillingCurrency) FROM cost_lines) AS currencies,
    (SELECT count(*) FILTER (WHERE BilledCost IS NULL) FROM cost_lines) AS all_lines_without_billed,
    (SELECT count(*) FILTER (WHERE EffectiveCost IS NULL) FROM cost_lines) AS all_lines_without_effective,
    -- in the reporting currency; NULL (unknown) when no line carries that cost at all
    (SELECT CASE WHEN (SELECT count(BilledCost) FROM cost_lines) > 0
                 THEN coalesce(sum(billed_cost_reporting), 0) END FROM spend_daily) AS billed_reporting,
    (SELECT CASE WHEN (SELECT count(EffectiveCost) FROM cost_lines) > 0
                 THEN coalesce(sum(effective_cost_reporting), 0) END FROM spend_daily) AS effective_reporting,
    -- usage from its per-day sums (source_daily), not a scan of every event
    (SELECT coalesce(sum("rows"), 0) FROM source_daily) AS usage_rows,
    (SELECT coalesce(sum(requests), 0) FROM source_daily) AS requests,
    (SELECT coalesce(sum(unpriced_requests), 0) FROM source_daily) AS unpriced_requests,
    (SELECT coalesce(sum(cost_usd), 0) FROM source_daily) AS usage_cost_usd,
    (SELECT count(*) FROM tasks) AS tasks,
    (SELECT coalesce(sum(net_savings_usd), 0) FROM task_roi) AS net_savings_usd,
    -- what the savings rest on (docs/evidence.md): measured from work records, else the catalog's estimate
    (SELECT coalesce(sum(reported_net_savings_usd), 0) FROM task_roi) AS reported_net_savings_usd,
    (SELECT coalesce(sum(reported_net_savings_usd) FILTER (WHERE roi_basis = 'measured'), 0) FROM task_roi)
        AS measured_net_savings_usd,
    (SELECT count(*) FILTER (WHERE roi_basis = 'measured') FROM task_roi) AS measured_tasks
