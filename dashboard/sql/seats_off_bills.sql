-- Seats and vendor-billed usage that no loaded bill carries, in the months the period touches (reporting currency):
-- what the Overview adds beside the invoices, and budgets count. Parameters: first day, last day, team twice,
-- vendor twice (the Overview's provider: a vendor id such as anthropic or github).
SELECT CAST(sum(not_on_bills_usd) AS DOUBLE) AS not_on_bills_usd,
       CAST(sum(seat_cost_usd) FILTER (WHERE NOT seat_on_invoice) AS DOUBLE) AS seat_cost_usd,
       CAST(min(month) AS DATE) AS first_month,
       CAST(max(month) AS DATE) AS last_month
FROM person_monthly
WHERE month BETWEEN CAST(date_trunc('month', CAST(? AS DATE)) AS DATE) AND CAST(? AS DATE)
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR vendor = ?)
