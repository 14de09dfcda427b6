-- Reads people_in_view. Per vendor: seats and usage billed beyond them (reporting currency), the people active with
-- it, and what one active person costs (NULL when nobody was active: a cost nobody used). Active: a day of activity
-- in the month, or a seat not idle (Copilot reports only the last active day of each seat).
SELECT vendor,
       CAST(sum(seat_cost_usd) AS DOUBLE) AS seat_cost_usd,
       CAST(sum(usage_cost_usd) AS DOUBLE) AS usage_cost_usd,
       CAST(count(DISTINCT person) FILTER (WHERE active_days > 0 OR NOT is_idle_seat) AS BIGINT) AS active_people,
       CAST(count(DISTINCT person) FILTER (WHERE seats > 0) AS BIGINT) AS people_with_seats,
       CAST((coalesce(sum(seat_cost_usd), 0) + coalesce(sum(usage_cost_usd), 0))
            / nullif(count(DISTINCT person) FILTER (WHERE active_days > 0 OR NOT is_idle_seat), 0) AS DOUBLE) AS cost_per_active_person_usd
FROM people_in_view
GROUP BY vendor
ORDER BY coalesce(sum(seat_cost_usd), 0) + coalesce(sum(usage_cost_usd), 0) DESC
