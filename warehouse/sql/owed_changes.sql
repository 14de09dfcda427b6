-- The changes a mart has not rebuilt yet: those recorded after its last build in the tables it reads ($2), each
-- with the days it owes. A change to a table every day reads ($3: the rates, the task catalog) is recorded over
-- every day of the partitions, but can alter the mart's rows only on days its other tables hold rows on
-- ([$4, $5]): it owes those days only, and none (first_day after last_day) when they hold none.
SELECT id,
       CASE WHEN list_contains($3, table_name) THEN greatest(first_day, $4) ELSE first_day END AS first_day,
       CASE WHEN list_contains($3, table_name) THEN least(last_day, $5) ELSE last_day END AS last_day
FROM changed_days
WHERE id > coalesce((SELECT through_id FROM mart_builds WHERE mart = $1), 0)
  AND list_contains($2, table_name)
ORDER BY id
