-- Remove one month's rows of a closed-month table (aispend reopen).
DELETE FROM {table} WHERE month = ?
