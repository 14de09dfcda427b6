-- Sources whose share of priced tokens is under the threshold (parameter 1, a fraction). Unpriced requests
-- have cost_usd NULL (never $0), so coverage says how much of a source's usage the cost figures miss.
-- Sources without tokens are not judged.
WITH coverage AS (
    SELECT
        x_source AS source,
        sum(request_count) AS requests,
        sum(request_count) FILTER (WHERE cost_usd IS NULL) AS unpriced_requests,
        sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) AS tokens,
        sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) FILTER (WHERE cost_usd IS NULL)
            AS unpriced_tokens,
        coalesce(sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens)
            FILTER (WHERE cost_usd IS NOT NULL), 0)
            / nullif(sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens), 0) AS token_coverage,
        string_agg(DISTINCT provider || '/' || model, ', ' ORDER BY provider || '/' || model)
            FILTER (WHERE cost_usd IS NULL) AS unpriced_models
    FROM usage_events
    GROUP BY x_source
)
SELECT *, count(*) OVER () AS offending
FROM coverage
WHERE token_coverage < ?
ORDER BY token_coverage, source
LIMIT 20
