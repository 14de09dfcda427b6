-- Sources whose share of priced tokens is under the threshold (parameter 1, a fraction), from the per-day sums
-- (source_daily). Unpriced requests have cost_usd NULL (never $0), so coverage says how much of a source's usage
-- the cost figures miss. Sources without tokens are not judged.
WITH coverage AS (
    SELECT
        x_source AS source,
        sum(requests) AS requests,
        sum(unpriced_requests) AS unpriced_requests,
        sum(tokens) AS tokens,
        sum(unpriced_tokens) AS unpriced_tokens,
        coalesce(sum(priced_tokens), 0) / nullif(sum(tokens), 0) AS token_coverage,
        string_agg(DISTINCT provider || '/' || model, ', ' ORDER BY provider || '/' || model)
            FILTER (WHERE unpriced_rows > 0) AS unpriced_models
    FROM source_daily
    GROUP BY x_source
)
SELECT *, count(*) OVER () AS offending
FROM coverage
WHERE token_coverage < ?
ORDER BY token_coverage, source
LIMIT 20
