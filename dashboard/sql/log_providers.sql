-- Provider ids the request logs name.
SELECT DISTINCT provider
FROM usage_daily
