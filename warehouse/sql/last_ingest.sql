-- The newest ingest_log entry for one location of one source: decides whether a file must be read again.
SELECT checksum, price_version, status
FROM ingest_log
WHERE source = ? AND location = ?
ORDER BY loaded_at DESC
LIMIT 1
