-- A unit quarantined on its latest attempt that its source no longer lists (the file was deleted or renamed,
-- a source path was fixed): it is no longer owed, so it no longer fails no_quarantined_input. Parameters:
-- loaded_at, source, then the source's listed unit keys.
INSERT INTO ingest_log (source, kind, location, checksum, price_version, rows, status, error, loaded_at)
SELECT source, kind, location, NULL, NULL, 0, 'removed', 'no longer listed by the source (it was quarantined)', $1
FROM ingest_log
WHERE source = $2 AND NOT list_contains($3, location)
QUALIFY row_number() OVER (PARTITION BY location ORDER BY loaded_at DESC) = 1 AND status = 'quarantined'
