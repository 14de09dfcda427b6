-- Rows of one table dated in a window of days [?, ?), only the columns a mart reads.
SELECT {columns} FROM {table} WHERE {column} >= ? AND {column} < ?
