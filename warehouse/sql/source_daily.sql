-- Usage per UTC day, source, provider and model in [?, ?) (the source_daily mart, built by day): rows, requests
-- and tokens, how much of them is priced, and the newest event. The usage checks and the run's summary read it.
-- A sum over no value is NULL, as over the events, so the checks read the same figures either way.
SELECT CAST(event_time AS DATE) AS day,
       x_source,
       provider,
       model,
       count(*) AS "rows",
       CAST(sum(request_count) AS BIGINT) AS requests,
       count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_rows,
       CAST(sum(request_count) FILTER (WHERE cost_usd IS NULL) AS BIGINT) AS unpriced_requests,
       CAST(sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) AS BIGINT) AS tokens,
       CAST(sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens)
            FILTER (WHERE cost_usd IS NOT NULL) AS BIGINT) AS priced_tokens,
       CAST(sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens)
            FILTER (WHERE cost_usd IS NULL) AS BIGINT) AS unpriced_tokens,
       sum(cost_usd) AS cost_usd,
       max(event_time) AS newest
FROM usage_events
WHERE event_time >= ? AND event_time < ?
GROUP BY ALL
