-- The reporting currency the marts are in (their `currency` column); NULL for snapshots written before it existed.
SELECT coalesce((SELECT max(currency) FROM usage_daily), (SELECT max(currency) FROM allocated_cost),
                (SELECT max(currency) FROM spend_daily)) AS currency
