-- Bill lines for seats (x_ai_category 'seat'): the month and the names that say whose seats they are.
SELECT DISTINCT CAST(date_trunc('month', ChargePeriodStart) AS DATE) AS month,
       concat_ws(' ', ProviderName, ServiceName, SkuId, ChargeDescription) AS names
FROM cost_lines
WHERE x_ai_category = 'seat' AND ChargePeriodStart IS NOT NULL
