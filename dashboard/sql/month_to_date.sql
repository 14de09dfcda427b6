-- The open month per provider: invoiced so far and, apart, the expected rest (never added to billed).
-- Parameters: provider id (NULL: all) twice.
SELECT month, as_of, provider, invoiced_cost, uninvoiced_logged_cost, unpriced_requests, ratio, ratio_low,
       ratio_high, ratio_months, ratio_basis, expected_rest, expected_rest_low, expected_rest_high, currency
FROM month_to_date
WHERE (CAST(? AS VARCHAR) IS NULL OR provider = ?)
ORDER BY invoiced_cost + coalesce(expected_rest, 0) DESC, provider
