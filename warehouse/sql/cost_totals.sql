-- Billed cost and line count per currency: what a cost_lines load reports.
SELECT BillingCurrency AS currency, sum(BilledCost) AS billed, count(*) AS n
FROM cost_lines
GROUP BY 1
ORDER BY 1
