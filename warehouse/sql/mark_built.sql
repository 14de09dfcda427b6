-- A mart has caught up with every change to its tables up to id $2 (pipelines/planning.py works it out from
-- owed_changes.sql); NULL: with every change recorded so far.
INSERT OR REPLACE INTO mart_builds (mart, through_id, built_at)
VALUES ($1, coalesce($2, (SELECT max(id) FROM changed_days), 0), now()::TIMESTAMP)
