-- The monthly report's close status: who closed the month and when (no row while it is open).
SELECT month, closed_by, closed_at, currency, billed_cost, effective_cost, lines FROM closed_months WHERE month = ?
