-- Reads spend (spend.sql). Billed (cash) cost per billing currency and its AI part; never summed
-- across currencies. Parameters: first day, last day, provider id (NULL: all) twice.
SELECT billing_currency,
       sum(billed_cost)                                  AS billed_cost,
       coalesce(sum(billed_cost) FILTER (WHERE is_ai), 0) AS ai_billed_cost,
       CAST(sum(line_count) AS BIGINT)                   AS line_count
FROM spend
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider_id = ?)
GROUP BY billing_currency
ORDER BY billed_cost DESC NULLS LAST, billing_currency
