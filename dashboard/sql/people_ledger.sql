-- Reads people_in_view. The ledger rows themselves, newest month first: what the CSV and the drill-down show.
SELECT month, person, team, vendor, plan, seats, seat_cost_usd, seat_cost_basis, seat_on_invoice, usage_cost_usd,
       usage_cost_basis, api_equivalent_usd, unpriced_tokens, active_days, sessions, requests, lines_added,
       lines_removed, commits, pull_requests, last_activity_day, is_idle_seat, activity_evidence, plan_price_usd,
       next_plan, next_plan_price_usd, plan_fit, not_on_bills_usd
FROM people_in_view
ORDER BY month DESC, person NULLS LAST, vendor, plan
