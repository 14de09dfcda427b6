-- Days whose rows a load changed (deleted or inserted), written in the load's own transaction: the marts over
-- them are rebuilt by the next run even when this one is killed before it gets there.
INSERT INTO changed_days (table_name, first_day, last_day, source, location, recorded_at)
VALUES (?, ?, ?, ?, ?, ?)
