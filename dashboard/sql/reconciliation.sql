-- Invoice against logs per provider and month over the days of the period; a month billed as one period (no
-- day) counts whole when the period touches it. The difference's parts add up to it exactly.
-- Parameters: first day, last day, first day, last day, provider twice.
SELECT provider, month,
       sum(billed_cost_usd)  AS billed_cost_usd,
       sum(logged_cost_usd)  AS logged_cost_usd,
       sum(difference_usd)   AS difference_usd,
       100 * sum(difference_usd) / nullif(sum(billed_cost_usd), 0) AS difference_pct,
       sum(credits_usd)      AS credits_usd,
       sum(discount_usd)     AS discount_usd,
       sum(unpriced_models_usd)      AS unpriced_models_usd,
       sum(missing_from_logs_usd)    AS missing_from_logs_usd,
       sum(missing_from_invoice_usd) AS missing_from_invoice_usd,
       sum(unexplained_usd)          AS unexplained_usd,
       CAST(sum(logged_requests) AS BIGINT)   AS logged_requests,
       CAST(sum(unpriced_requests) AS BIGINT) AS unpriced_requests,
       CAST(sum(non_usd_lines) AS BIGINT)     AS non_usd_lines
FROM reconciliation
WHERE coalesce(day, month) BETWEEN date_trunc('month', CAST(? AS DATE)) AND ?
  AND (day IS NULL OR day BETWEEN ? AND ?)
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
GROUP BY provider, month
ORDER BY month DESC, billed_cost_usd DESC NULLS LAST, provider
