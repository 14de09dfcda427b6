-- Every check's latest verdict (the end of the last run, over the data as it then stood): failing errors first,
-- then failing warnings, then what passes; with when it last changed ("failing since").
SELECT asset || ':' || check_name AS "check", severity, passed, description, offending, details, evaluated_at,
       changed_at
FROM check_results
ORDER BY passed, CASE severity WHEN 'error' THEN 0 ELSE 1 END, asset, check_name
