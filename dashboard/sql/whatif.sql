-- The model_whatif mart (everything loaded, not the period), best saving first. Parameters: provider twice,
-- task twice (NULL: all).
SELECT task, provider, model, alt_provider, alt_model, is_eligible_listed, requests, unpriced_requests,
       current_cost_usd, alt_cost_usd, savings_usd, savings_pct,
       current_runs, current_success_rate, current_cost_per_success_usd,
       alt_runs, alt_success_rate, alt_cost_per_success_usd, alt_cache_read_as_input
FROM model_whatif
WHERE (CAST(? AS VARCHAR) IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR task = ?)
ORDER BY savings_usd DESC NULLS LAST, task, model, alt_model
