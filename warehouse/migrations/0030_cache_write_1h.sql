-- 0030: 1-hour prompt-cache writes, priced at their own rate (Anthropic bills a 1-hour write at 2x the base
-- input rate, a 5-minute write at 1.25x).
-- cache_write_1h_tokens: the part of cache_write_tokens written with a 1-hour TTL (a subset, never added to
-- it); NULL when the source does not say, and then every cache write is priced at the 5-minute rate.
ALTER TABLE usage_events ADD COLUMN IF NOT EXISTS cache_write_1h_tokens BIGINT;
-- The 1-hour write rate per model and window (genai-prices' cache_write_1h_mtok; 2x the input rate where the
-- library lists none), and per long-context tier like the other rates.
ALTER TABLE prices ADD COLUMN IF NOT EXISTS cache_write_1h_usd_per_mtok DOUBLE;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier1_cache_write_1h_usd_per_mtok DOUBLE;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier2_cache_write_1h_usd_per_mtok DOUBLE;
