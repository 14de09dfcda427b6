-- Billing accounts whose lines carry more than one BillingCurrency (must be none: an account is invoiced in
-- one currency, so a second one means a mis-mapped column or two exports mixed under one source).
-- Lines without an account are grouped per source. Columns: the account, its currencies, lines, offending.
SELECT
    coalesce(BillingAccountId, '(no account: ' || x_source || ')') AS billing_account,
    string_agg(DISTINCT BillingCurrency, ', ' ORDER BY BillingCurrency) AS currencies,
    count(*) AS lines,
    count(*) OVER () AS offending
FROM cost_lines
GROUP BY 1
HAVING count(DISTINCT BillingCurrency) > 1
ORDER BY billing_account
LIMIT 20
