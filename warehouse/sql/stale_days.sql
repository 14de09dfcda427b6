-- The days a mart still has to rebuild: every change recorded after its last build, in the tables it reads
-- from. Returns the first and last such day and the newest change id seen.
SELECT min(first_day) AS first_day, max(last_day) AS last_day, max(id) AS through_id
FROM changed_days
WHERE id > coalesce((SELECT through_id FROM mart_builds WHERE mart = ?), 0)
  AND list_contains(?, table_name)
