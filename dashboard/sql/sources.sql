-- Reads latest_ingest (latest_ingest.sql). Per config source: files read, loaded and quarantined, rows loaded,
-- last load.
SELECT source, any_value(kind) AS kind, count(*) AS files,
       count(*) FILTER (WHERE status <> 'quarantined') AS files_loaded,
       count(*) FILTER (WHERE status = 'quarantined') AS files_quarantined,
       CAST(coalesce(sum(rows) FILTER (WHERE status <> 'quarantined'), 0) AS BIGINT) AS rows,
       max(loaded_at) AS last_load
FROM latest_ingest
GROUP BY source
ORDER BY source
