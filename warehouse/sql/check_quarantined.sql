-- Units of the given sources whose latest attempt was quarantined: refused whole, nothing of them loaded. A
-- quarantined unit is read again by every run until it loads (or leaves its source: status 'removed'), so this
-- is the state of the data, not of one run. The task catalog is one file wherever the config points: only its
-- latest attempt counts. Parameters: the source names. The first units, with how many there are in all.
WITH latest AS (
    SELECT source, location, status, error, loaded_at
    FROM ingest_log
    WHERE list_contains(?, source)
    QUALIFY row_number() OVER (PARTITION BY source, CASE WHEN source = 'task_catalog' THEN '' ELSE location END
                               ORDER BY loaded_at DESC) = 1
)
SELECT source, location, error, loaded_at, count(*) OVER () AS offending
FROM latest
WHERE status = 'quarantined'
ORDER BY source, location
LIMIT 20
