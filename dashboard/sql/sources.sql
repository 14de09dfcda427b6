-- Reads latest_ingest (latest_ingest.sql). Per config source: files read, loaded and quarantined, rows loaded,
-- last load. A unit whose latest entry is 'removed' (quarantined, then gone from its source) is not counted.
SELECT source, any_value(kind) AS kind, count(*) AS files,
       count(*) FILTER (WHERE status <> 'quarantined') AS files_loaded,
       count(*) FILTER (WHERE status = 'quarantined') AS files_quarantined,
       CAST(coalesce(sum(rows) FILTER (WHERE status <> 'quarantined'), 0) AS BIGINT) AS rows,
       max(loaded_at) AS last_load
FROM latest_ingest
WHERE status <> 'removed'
GROUP BY source
ORDER BY source
