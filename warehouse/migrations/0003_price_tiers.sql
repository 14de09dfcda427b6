-- 0003: long-context price tiers and request-context price variants (batch, service tiers).
-- price_variant: 'standard' (the list price) or the request context a row prices: 'batch' (batch APIs) or a
-- service tier ('flex', 'priority', 'fast'); the grain becomes (provider, model, price_variant, window).
ALTER TABLE prices ADD COLUMN IF NOT EXISTS price_variant VARCHAR DEFAULT 'standard';
-- Long-context tiers: when a request's total input (uncached + cache read + cache write) is GREATER than a
-- tier's threshold, the whole request is priced at that tier's rates (all token types); NULL: no such tier.
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier1_threshold_tokens BIGINT;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier1_input_usd_per_mtok DOUBLE;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier1_output_usd_per_mtok DOUBLE;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier1_cache_read_usd_per_mtok DOUBLE;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier1_cache_write_usd_per_mtok DOUBLE;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier2_threshold_tokens BIGINT;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier2_input_usd_per_mtok DOUBLE;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier2_output_usd_per_mtok DOUBLE;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier2_cache_read_usd_per_mtok DOUBLE;
ALTER TABLE prices ADD COLUMN IF NOT EXISTS tier2_cache_write_usd_per_mtok DOUBLE;
