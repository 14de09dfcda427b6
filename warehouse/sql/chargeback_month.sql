-- One month's chargeback, one row per team (the team-less row, if any, last): what `aispend export` writes.
SELECT month, team, cost_center, direct_cost, seats_cost, shared_cost, total_cost, currency, rule, cost_basis,
       is_closed
FROM chargeback
WHERE month = ?
ORDER BY team NULLS LAST
