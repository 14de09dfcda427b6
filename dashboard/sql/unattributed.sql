-- Allocated AI cost no task used, by provider and why (allocated_cost.basis).
-- Parameters: first day, last day, provider twice.
SELECT provider, basis, sum(billed_cost_usd) AS billed_cost_usd, sum(effective_cost_usd) AS effective_cost_usd
FROM allocated_cost
WHERE task = 'unattributed' AND day BETWEEN ? AND ? AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
GROUP BY provider, basis
ORDER BY billed_cost_usd DESC NULLS LAST, provider, basis
