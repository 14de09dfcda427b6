-- Allocated AI cost per day, provider and team (billed basis): what budgets and forecasts count.
SELECT day, provider, team, sum(billed_cost_usd) AS cost_usd
FROM allocated_cost
GROUP BY day, provider, team
ORDER BY day, provider, team
