-- 0002: what kind of AI spend a billed line is, and the service tier a request ran on.
-- x_ai_category: 'model_usage' (tokens), 'ai_compute' (accelerator instances, SageMaker),
-- 'provisioned_throughput' (reserved model capacity), 'ai_service' (other AI and ML services), NULL (not AI).
ALTER TABLE cost_lines ADD COLUMN IF NOT EXISTS x_ai_category VARCHAR;
-- service_tier: as the provider reports it (default, flex, priority, scale, batch, ...); NULL when unknown.
ALTER TABLE usage_events ADD COLUMN IF NOT EXISTS service_tier VARCHAR;
