-- FOCUS 1.2 CSV exports as cost_lines rows: DuckDB's own reading of the files the focus reader reads (the columns
-- are FOCUS names already; text to numbers and times). The CSV dialect is given, as the reader knows it: sniffing
-- it costs DuckDB about 0.2 s a file. Parameter: the files.
WITH lines AS (
    SELECT * FROM read_csv(?, header = true, filename = true, all_varchar = true, delim = ',', quote = '"', escape = '"')
)
SELECT
    x_line_id, BillingAccountId, BillingAccountName, SubAccountId, SubAccountName, ProviderName, PublisherName,
    InvoiceIssuerName, InvoiceId,
    strptime(BillingPeriodStart, '%Y-%m-%dT%H:%M:%SZ') AS BillingPeriodStart,
    strptime(BillingPeriodEnd, '%Y-%m-%dT%H:%M:%SZ') AS BillingPeriodEnd,
    strptime(ChargePeriodStart, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart,
    strptime(ChargePeriodEnd, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodEnd,
    ChargeCategory, ChargeClass, ChargeDescription, ChargeFrequency, PricingCategory,
    CAST(BilledCost AS DOUBLE) AS BilledCost,
    CAST(EffectiveCost AS DOUBLE) AS EffectiveCost,
    CAST(ListCost AS DOUBLE) AS ListCost,
    CAST(ContractedCost AS DOUBLE) AS ContractedCost,
    BillingCurrency,
    CAST(ConsumedQuantity AS DOUBLE) AS ConsumedQuantity,
    ConsumedUnit,
    CAST(PricingQuantity AS DOUBLE) AS PricingQuantity,
    PricingUnit, ServiceName, ServiceCategory, ServiceSubcategory, SkuId,
    CAST(NULL AS VARCHAR) AS SkuPriceId,
    SkuMeter, RegionId, RegionName,
    CAST(NULL AS VARCHAR) AS AvailabilityZone,
    ResourceId, ResourceName, ResourceType,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountId,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountType,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountStatus,
    Tags, x_model, x_token_type,
    ServiceCategory = 'AI and Machine Learning' AS x_is_ai,
    'focus' AS x_source,
    filename AS x_source_file,
    CAST(NULL AS VARCHAR) AS x_ai_category
FROM lines
