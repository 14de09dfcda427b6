-- Share of requests and of tokens that have a price, per source. Unpriced requests are never $0.
SELECT
    x_source AS source,
    sum(request_count) AS requests,
    sum(request_count) FILTER (WHERE cost_usd IS NULL) AS unpriced_requests,
    sum(request_count) FILTER (WHERE cost_usd IS NOT NULL) / nullif(sum(request_count), 0) AS request_coverage,
    sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) FILTER (WHERE cost_usd IS NOT NULL)
        / nullif(sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens), 0) AS token_coverage
FROM usage_events
GROUP BY x_source
ORDER BY x_source
