-- The first and last UTC day one table's rows sit on.
SELECT CAST(min({column}) AS DATE) AS first_day, CAST(max({column}) AS DATE) AS last_day FROM {table}
