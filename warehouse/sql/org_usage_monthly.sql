-- Usage a vendor bills to the whole organization, not per person (Copilot premium requests): USD billed per
-- month, from the lines of the sources named in the list parameter.
SELECT CAST(date_trunc('month', ChargePeriodStart) AS DATE) AS month,
       sum(BilledCost) AS usage_cost_usd
FROM cost_lines
WHERE list_contains(?, x_source) AND BillingCurrency = 'USD'
GROUP BY ALL
