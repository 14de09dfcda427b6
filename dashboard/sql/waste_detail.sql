-- Reads waste_in_view (waste_in_view.sql). Where waste happens, largest first; the last parameter is the number
-- of rows (NULL: all of them, for the CSV).
SELECT category, is_estimate, provider, model, task, team,
       CAST(sum(requests) AS BIGINT) AS requests,
       sum(affected_cost_usd)        AS affected_cost_usd,
       sum(cost_usd)                 AS cost_usd
FROM waste_in_view
GROUP BY ALL
ORDER BY cost_usd DESC NULLS LAST, category, provider, model, task, team
LIMIT ?
