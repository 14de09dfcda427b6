-- The newest ingest_log entry for every location of one source: read once, in a short connection, so no
-- writer is held while the source's files are fetched and parsed.
SELECT location, checksum, price_version, status, file_version
FROM (
    SELECT location, checksum, price_version, status, file_version,
           row_number() OVER (PARTITION BY location ORDER BY loaded_at DESC) AS newest
    FROM ingest_log
    WHERE source = ?
)
WHERE newest = 1
