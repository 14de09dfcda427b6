-- Reads people_in_view. Per person (NULL: the organization), seats and usage billed beyond them, in the reporting
-- currency, largest first: the stacked bars and the per-person table.
SELECT person,
       any_value(team) AS team,
       bool_or(is_mapped) AS is_mapped,
       string_agg(DISTINCT vendor, ', ' ORDER BY vendor) AS vendors,
       CAST(sum(seat_cost_usd) AS DOUBLE) AS seat_cost_usd,
       CAST(sum(usage_cost_usd) AS DOUBLE) AS usage_cost_usd,
       CAST(coalesce(sum(seat_cost_usd), 0) + coalesce(sum(usage_cost_usd), 0) AS DOUBLE) AS total_usd,
       CAST(sum(api_equivalent_usd) AS DOUBLE) AS api_equivalent_usd,
       CAST(count(*) FILTER (WHERE seats > 0 AND seat_cost_usd IS NULL) AS BIGINT) AS unpriced_seat_months,
       CAST(max(active_days) AS BIGINT) AS most_active_days,
       CAST(bool_or(coalesce(is_idle_seat, false)) AS BOOLEAN) AS has_idle_seat
FROM people_in_view
GROUP BY person
ORDER BY total_usd DESC, person NULLS LAST
