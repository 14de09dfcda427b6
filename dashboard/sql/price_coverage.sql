-- Share of requests with a known price per provider in the period. Parameters: first day, last day.
SELECT provider,
       CAST(sum(requests) AS BIGINT)          AS requests,
       CAST(sum(unpriced_requests) AS BIGINT) AS unpriced_requests,
       1 - sum(unpriced_requests) / nullif(sum(requests), 0) AS price_coverage,
       count(DISTINCT model) FILTER (WHERE unpriced_requests > 0) AS unpriced_models
FROM usage_daily
WHERE day BETWEEN ? AND ?
GROUP BY provider
ORDER BY price_coverage, provider
