-- The person_monthly rows of the months the period touches, for the team and person asked for; the people
-- queries read it. Parameters: first day, last day, team twice, person twice (NULL: all).
SELECT *
FROM person_monthly
WHERE month BETWEEN CAST(date_trunc('month', CAST(? AS DATE)) AS DATE) AND CAST(? AS DATE)
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR person = ?)
