-- Reads waste_in_view (waste_in_view.sql). Waste and estimated savings per category.
SELECT category, is_estimate, any_value(explanation) AS explanation,
       CAST(sum(requests) AS BIGINT) AS requests,
       sum(affected_cost_usd)        AS affected_cost_usd,
       sum(cost_usd)                 AS cost_usd
FROM waste_in_view
GROUP BY category, is_estimate
ORDER BY is_estimate, cost_usd DESC NULLS LAST, category
