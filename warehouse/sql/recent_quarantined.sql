-- Inputs quarantined since a moment (the start of this run), newest first.
SELECT location, error FROM ingest_log WHERE status = 'quarantined' AND loaded_at >= ? ORDER BY loaded_at DESC LIMIT 20
