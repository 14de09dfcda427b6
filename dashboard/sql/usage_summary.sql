-- One row: requests, unpriced requests, priced cost from the logs (reporting currency) and the share of requests priced
-- (NULL when there were none: unknown, not 100%). Parameters: first day, last day, team twice, provider twice.
SELECT CAST(coalesce(sum(requests), 0) AS BIGINT)          AS requests,
       CAST(coalesce(sum(unpriced_requests), 0) AS BIGINT) AS unpriced_requests,
       sum(cost_usd)                                       AS priced_cost_usd,
       (sum(requests) - sum(unpriced_requests)) / nullif(sum(requests), 0) AS price_coverage
FROM usage_daily
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
