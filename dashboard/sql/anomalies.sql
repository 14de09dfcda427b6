-- Flagged days (priced usage, in the reporting currency), newest first. Parameters: first day, last day, provider twice, team twice.
SELECT day, provider, model, team, direction, cost_usd, baseline_usd, cost_usd - baseline_usd AS change_usd, score
FROM anomalies
WHERE is_anomaly AND day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
ORDER BY day DESC, abs(cost_usd - baseline_usd) DESC, provider, model, team
