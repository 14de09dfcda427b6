-- Reads spend (spend.sql). Billed cost per day and provider id in the reporting currency: every line at its
-- charge day's rate (billed_cost_reporting); in a snapshot written before that column existed, the lines billed
-- in the reporting currency as they are. Parameters: reporting currency, first day, last day, provider id twice.
SELECT day, provider, sum(amount) AS billed_cost
FROM (
    SELECT day, provider_id AS provider,
           coalesce(billed_cost_reporting, CASE WHEN billing_currency = ? THEN billed_cost END) AS amount
    FROM spend
    WHERE day BETWEEN ? AND ?
      AND (CAST(? AS VARCHAR) IS NULL OR provider_id = ?)
)
WHERE amount IS NOT NULL
GROUP BY ALL
ORDER BY day, provider
