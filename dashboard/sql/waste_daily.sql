-- Reads waste_in_view (waste_in_view.sql). Measured waste (recorded spend, never the estimates) per day
-- and category.
SELECT day, category, sum(cost_usd) AS cost_usd
FROM waste_in_view
WHERE NOT is_estimate
GROUP BY day, category
ORDER BY day, category
