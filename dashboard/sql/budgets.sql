-- Budgets that apply to the filters: a budget scoped to no provider (or team) applies to every one.
-- Parameters: provider twice, team twice (NULL: all).
SELECT budget, team, provider, monthly_usd, month, as_of, cost_basis, actual_usd, forecast_usd,
       actual_pct, forecast_pct, status, unpriced_requests
FROM budget_status
WHERE (CAST(? AS VARCHAR) IS NULL OR provider IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR team IS NULL OR team = ?)
ORDER BY budget
