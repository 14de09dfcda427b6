-- task_roi must account for every request and every priced dollar in usage_events.
SELECT
    (SELECT coalesce(sum(request_count), 0) FROM usage_events) AS usage_requests,
    (SELECT coalesce(sum(requests), 0) FROM task_roi) AS roi_requests,
    (SELECT coalesce(sum(cost_usd), 0) FROM usage_events) AS usage_cost_usd,
    (SELECT coalesce(sum(ai_cost_usd), 0) FROM task_roi) AS roi_cost_usd
