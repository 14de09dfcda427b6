-- Per config source, by each file's latest attempt: files read, loaded and quarantined, rows loaded, last load.
WITH latest AS (
    SELECT * FROM ingest_log
    QUALIFY row_number() OVER (PARTITION BY source, location ORDER BY loaded_at DESC) = 1
)
SELECT source, any_value(kind) AS kind, count(*) AS files,
       count(*) FILTER (WHERE status <> 'quarantined') AS files_loaded,
       count(*) FILTER (WHERE status = 'quarantined') AS files_quarantined,
       CAST(coalesce(sum(rows) FILTER (WHERE status <> 'quarantined'), 0) AS BIGINT) AS rows,
       max(loaded_at) AS last_load
FROM latest
GROUP BY source
ORDER BY source
