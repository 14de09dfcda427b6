-- The WITH clause the waste queries start with: `waste_in_view` is the waste rows of the period, provider, team
-- and task asked for. Parameters: first day, last day, provider twice, team twice, task twice (NULL: all).
WITH waste_in_view AS (
    SELECT * FROM waste
    WHERE day BETWEEN ? AND ?
      AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
      AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
      AND (CAST(? AS VARCHAR) IS NULL OR task = ?)
)
