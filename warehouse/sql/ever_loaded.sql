-- Has this location of this source ever been loaded? Decides between status 'loaded' and 'replaced'.
SELECT count(*) AS n
FROM ingest_log
WHERE source = ? AND location = ? AND status IN ('loaded', 'replaced')
