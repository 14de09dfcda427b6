-- Per provider and model: requests, the token mix, priced cost from the logs and the effective rate (priced cost
-- / priced tokens x 1e6, reporting currency per million tokens). Parameters: first day, last day, provider, team, task twice each.
SELECT provider, model,
       CAST(sum(requests) AS BIGINT)           AS requests,
       CAST(sum(unpriced_requests) AS BIGINT)  AS unpriced_requests,
       CAST(sum(input_tokens) AS BIGINT)       AS input_tokens,
       CAST(sum(cache_read_tokens) AS BIGINT)  AS cache_read_tokens,
       CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
       CAST(sum(output_tokens) AS BIGINT)      AS output_tokens,
       CAST(sum(total_tokens) AS BIGINT)       AS total_tokens,
       CAST(sum(priced_tokens) AS BIGINT)      AS priced_tokens,
       sum(cost_usd)                           AS cost_usd,
       sum(cost_usd) / nullif(sum(priced_tokens), 0) * 1e6 AS usd_per_mtok
FROM usage_daily
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR task = ?)
GROUP BY provider, model
ORDER BY cost_usd DESC NULLS LAST, requests DESC, provider, model
