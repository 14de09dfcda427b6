-- Every (invoice provider, service) pair once, named as FOCUS names them, for the provider-id rule.
SELECT DISTINCT provider AS ProviderName, service_name AS ServiceName
FROM spend_daily
