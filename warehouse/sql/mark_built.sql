-- A mart rebuilt the days [?, ?): it has caught up with every change to its tables up to the first one that
-- window did not cover (a change outside the partitions, start_date .. today, counts as covered: no run ever
-- rebuilds it). Parameters: mart, tables, window start, window end, partitions start, partitions end.
INSERT OR REPLACE INTO mart_builds (mart, through_id, built_at)
SELECT $1, coalesce(
    (SELECT min(id) - 1 FROM changed_days
     WHERE id > coalesce((SELECT through_id FROM mart_builds WHERE mart = $1), 0)
       AND list_contains($2, table_name)
       AND greatest(first_day, $5) <= least(last_day, $6 - INTERVAL 1 DAY)
       AND NOT (greatest(first_day, $5) >= $3 AND least(last_day, $6 - INTERVAL 1 DAY) < $4)),
    (SELECT max(id) FROM changed_days),
    0), now()::TIMESTAMP
