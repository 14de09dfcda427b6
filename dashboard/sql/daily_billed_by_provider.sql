-- Reads spend (spend.sql). Billed cost per day and provider id in one currency.
-- Parameters: first day, last day, currency, provider id (NULL: all) twice.
SELECT day, provider_id AS provider, sum(billed_cost) AS billed_cost
FROM spend
WHERE day BETWEEN ? AND ?
  AND billing_currency IS NOT DISTINCT FROM ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider_id = ?)
GROUP BY ALL
ORDER BY day, provider
