-- 0044: the marts of measured time saved and of people and seats say their currency too (docs/finance.md,
-- "Currency"): their amounts are in the reporting currency, like every mart. The logs' dollar prices, allocated
-- cost and the seats' dollar prices are converted (seats at their month's first day, idle seats at as_of); the
-- catalog's hourly rates are read in it.
ALTER TABLE work_item_links ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE evidence_items ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE task_evidence ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE person_monthly ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE idle_seats ADD COLUMN IF NOT EXISTS currency VARCHAR;
