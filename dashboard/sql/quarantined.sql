-- Files whose latest attempt was refused, with the reason (a file fixed and read again leaves this list).
SELECT source, kind, location, error, loaded_at
FROM ingest_log
QUALIFY row_number() OVER (PARTITION BY source, location ORDER BY loaded_at DESC) = 1 AND status = 'quarantined'
ORDER BY loaded_at DESC, source, location
