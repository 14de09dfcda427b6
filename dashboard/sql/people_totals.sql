-- Reads people_in_view. The page's headline figures, in the reporting currency.
SELECT CAST(sum(seat_cost_usd) AS DOUBLE) AS seat_cost_usd,
       CAST(sum(usage_cost_usd) AS DOUBLE) AS usage_cost_usd,
       CAST(sum(not_on_bills_usd) AS DOUBLE) AS not_on_bills_usd,
       CAST(count(DISTINCT person) FILTER (WHERE active_days > 0) AS BIGINT) AS active_people,
       CAST(count(*) FILTER (WHERE seats > 0 AND seat_cost_usd IS NULL) AS BIGINT) AS unpriced_seat_months
FROM people_in_view
