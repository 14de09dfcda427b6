-- Lines that differ from a closed month as closed, the largest moves first.
SELECT month, change, x_line_id, provider, service_name, model, charge_day, billing_currency, billed_change,
       billed_change_reporting, currency, x_source_file
FROM changes_after_close
ORDER BY month DESC, abs(billed_change_reporting) DESC, x_line_id
