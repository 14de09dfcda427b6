-- Which of these locations of one source were ever loaded? Decides 'loaded' or 'replaced' for a batch of units,
-- and whether a unit's first write may skip the DELETE (pipelines/ingest.py).
SELECT DISTINCT location
FROM ingest_log
WHERE source = ? AND list_contains(?, location) AND status IN ('loaded', 'replaced')
