-- This month's forecast for one scope ('total', 'provider' or 'team') and its value (NULL for the total).
SELECT month, as_of, scope, scope_value, days_elapsed, days_remaining, actual_usd, forecast_usd,
       forecast_low_usd, forecast_high_usd
FROM spend_forecast
WHERE scope = ? AND scope_value IS NOT DISTINCT FROM ?
