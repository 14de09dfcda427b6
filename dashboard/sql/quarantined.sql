-- Reads latest_ingest (latest_ingest.sql). Files whose latest attempt was refused, with the reason.
SELECT source, kind, location, error, loaded_at
FROM latest_ingest
WHERE status = 'quarantined'
ORDER BY loaded_at DESC, source, location
