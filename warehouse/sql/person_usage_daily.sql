-- What each user the logs name used per UTC day, provider and source in [?, ?) (the person_usage_daily mart,
-- built by day; person_monthly and idle_seats read it, not events): requests, sessions (distinct run ids),
-- priced cost (NULL when nothing was priced) and unpriced tokens.
SELECT user_id,
       CAST(event_time AS DATE) AS day,
       provider,
       x_source,
       CAST(sum(request_count) AS BIGINT) AS requests,
       count(DISTINCT run_id) AS sessions,
       sum(cost_usd) AS cost_usd,
       CAST(coalesce(sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens)
                     FILTER (WHERE cost_usd IS NULL), 0) AS BIGINT) AS unpriced_tokens
FROM usage_events
WHERE user_id IS NOT NULL AND event_time >= ? AND event_time < ?
GROUP BY ALL
