-- Reads spend (spend.sql). Billed (cash) cost per billing currency and its AI part, each also in the reporting
-- currency (every line at its charge day's rate; NULL in snapshots written before it existed). Amounts in
-- different billing currencies are never summed. Parameters: first day, last day, provider id (NULL: all) twice.
SELECT billing_currency,
       sum(billed_cost)                                            AS billed_cost,
       coalesce(sum(billed_cost) FILTER (WHERE is_ai), 0)          AS ai_billed_cost,
       CAST(sum(line_count) AS BIGINT)                             AS line_count,
       sum(billed_cost_reporting)                                  AS billed_cost_reporting,
       coalesce(sum(billed_cost_reporting) FILTER (WHERE is_ai), 0) AS ai_billed_cost_reporting
FROM spend
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider_id = ?)
GROUP BY billing_currency
ORDER BY billed_cost_reporting DESC NULLS LAST, billed_cost DESC NULLS LAST, billing_currency
