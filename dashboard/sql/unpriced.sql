-- Models with requests the price table could not price (their cost is unknown, never $0).
-- Parameters: first day, last day, provider twice.
SELECT provider, model,
       CAST(sum(requests) AS BIGINT)                       AS requests,
       CAST(sum(unpriced_requests) AS BIGINT)              AS unpriced_requests,
       CAST(sum(total_tokens) - sum(priced_tokens) AS BIGINT) AS unpriced_tokens,
       1 - sum(unpriced_requests) / nullif(sum(requests), 0) AS price_coverage
FROM usage_daily
WHERE day BETWEEN ? AND ? AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
GROUP BY provider, model
HAVING sum(unpriced_requests) > 0
ORDER BY unpriced_requests DESC, provider, model
