-- The monthly report's changes after close: one closed month's changed lines, largest moves first.
SELECT change, x_line_id, provider, service_name, model, charge_day, billing_currency, billed_change,
       billed_change_reporting, currency
FROM changes_after_close
WHERE month = ?
ORDER BY abs(billed_change_reporting) DESC, x_line_id
