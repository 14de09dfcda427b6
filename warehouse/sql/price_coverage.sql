-- Share of requests and of tokens that have a price, per source, from the per-day sums (source_daily).
-- Unpriced requests are never $0.
SELECT
    x_source AS source,
    sum(requests) AS requests,
    sum(unpriced_requests) AS unpriced_requests,
    CASE WHEN sum("rows") > sum(unpriced_rows)  -- NULL when nothing is priced, as the events' FILTER sum is
         THEN (sum(requests) - coalesce(sum(unpriced_requests), 0)) / nullif(sum(requests), 0) END AS request_coverage,
    sum(priced_tokens) / nullif(sum(tokens), 0) AS token_coverage
FROM source_daily
GROUP BY x_source
ORDER BY x_source
