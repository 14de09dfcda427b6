-- The waste rows of the period, provider, team and task asked for; the waste queries read it.
-- Parameters: first day, last day, provider twice, team twice, task twice (NULL: all).
SELECT *
FROM waste
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR task = ?)
