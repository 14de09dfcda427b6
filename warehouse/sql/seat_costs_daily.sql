-- Seats and vendor-billed usage that no loaded bill carries (person_monthly.not_on_bills_usd), per month (counted
-- on its first day), vendor and team: what budgets and the month-end forecast add to the allocated cost.
SELECT month AS day, vendor AS provider, team, sum(not_on_bills_usd) AS cost_usd
FROM person_monthly
WHERE not_on_bills_usd IS NOT NULL AND not_on_bills_usd <> 0
GROUP BY ALL
ORDER BY day, provider, team
