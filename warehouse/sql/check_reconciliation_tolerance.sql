-- Provider-months where the logs' priced cost differs from the invoice by more than the tolerance
-- (parameter 1, in percent of the billed cost). Rolled up as warehouse/README.md says: sum every row of the
-- month, day-level and month-level alike, and recompute the percentage. Months with nothing billed have no
-- percentage and are not judged here (the reconciliation mart shows them as missing_from_invoice_usd).
WITH months AS (
    SELECT
        provider,
        month,
        sum(billed_cost_usd) AS billed_cost_usd,
        sum(logged_cost_usd) AS logged_cost_usd,
        sum(difference_usd) AS difference_usd,
        100 * sum(difference_usd) / nullif(sum(billed_cost_usd), 0) AS difference_pct,
        sum(unpriced_models_usd) AS unpriced_models_usd,
        sum(missing_from_logs_usd) AS missing_from_logs_usd,
        sum(unexplained_usd) AS unexplained_usd
    FROM reconciliation
    GROUP BY provider, month
)
SELECT *, count(*) OVER () AS offending
FROM months
WHERE abs(difference_pct) > ?
ORDER BY abs(difference_pct) DESC, provider, month
LIMIT 20
