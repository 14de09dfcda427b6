-- Bill lines in a currency with no exchange rate into the reporting currency (parameter) on or before their
-- charge day (fx_rates: the ECB reference rates and the fx_rates file). The marts refuse to convert them, and
-- never at 0 or 1 (docs/finance.md, "Currency"). Columns: currency, the first day without a rate, lines.
WITH lines AS (
    SELECT upper(trim(coalesce(BillingCurrency, ''))) AS currency,
           min(CAST(ChargePeriodStart AS DATE)) AS first_day,
           count(*) AS lines
    FROM cost_lines
    WHERE upper(trim(coalesce(BillingCurrency, ''))) <> $1
    GROUP BY 1
),
published AS (SELECT currency, min(day) AS first_rate FROM fx_rates GROUP BY 1)
SELECT l.currency, l.first_day AS day_without_rate, l.lines, p.first_rate, count(*) OVER () AS offending
FROM lines l LEFT JOIN published p USING (currency)
WHERE p.first_rate IS NULL OR l.first_day < p.first_rate
ORDER BY l.currency
LIMIT 20
