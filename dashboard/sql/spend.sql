-- spend_daily with each line's genai-prices provider id, the id every page filters by: provider_map is the
-- pipeline's own rule applied to spend_keys.sql (dashboard/data/spend.py). The billed-spend queries read it.
SELECT s.*, coalesce(m.provider_id, '(no provider)') AS provider_id
FROM spend_daily s
LEFT JOIN provider_map m
  ON s.provider IS NOT DISTINCT FROM m.ProviderName AND s.service_name IS NOT DISTINCT FROM m.ServiceName
