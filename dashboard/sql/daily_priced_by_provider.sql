-- Priced cost from the request logs (USD, tokens x list prices) per day and provider: the Overview's chart when
-- no invoice is loaded. Unpriced requests are outside the figure, never $0.
-- Parameters: first day, last day, team twice, provider twice.
SELECT day, provider, sum(cost_usd) AS cost_usd
FROM usage_daily
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
GROUP BY ALL
HAVING sum(cost_usd) IS NOT NULL
ORDER BY day, provider
