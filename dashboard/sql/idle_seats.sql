-- Seats nobody used in the 30 days to the newest day of data (the idle_seats mart), for the team asked for.
-- Parameters: team twice, person twice (NULL: all).
SELECT as_of, vendor, plan, person, team, identity, seat_start, last_activity_day, days_idle, monthly_cost_usd,
       evidence
FROM idle_seats
WHERE (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR person = ?)
ORDER BY days_idle DESC NULLS FIRST, monthly_cost_usd DESC, person
