-- Each file's (or API page's) latest attempt in the ingest log: a file fixed and read again counts as loaded.
SELECT *
FROM ingest_log
QUALIFY row_number() OVER (PARTITION BY source, location ORDER BY loaded_at DESC) = 1
