-- A whole (small) table, only the columns a mart reads.
SELECT {columns} FROM {table}
