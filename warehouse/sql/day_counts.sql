-- Rows per UTC day of one table in a window of days [?, ?): all a chunk plan needs.
SELECT CAST({column} AS DATE) AS day, count(*) AS n FROM {table} WHERE {column} >= ? AND {column} < ? GROUP BY 1
