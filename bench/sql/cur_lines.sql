-- AWS CUR 2.0 data files (Parquet) as cost_lines rows: DuckDB's own reading of the files the newest manifests list,
-- which the aws_cur reader reads. Cash (unblended) cost as BilledCost; the bench's bill has no commitments, so
-- EffectiveCost is the same. Parameter: the data files.
WITH lines AS (
    SELECT *, filename,
        list_filter(product, p -> p."key" = 'product_name')[1]."value" AS product_name,
        list_filter(product, p -> p."key" = 'region')[1]."value" AS region
    FROM read_parquet(?, filename = true)
)
SELECT
    identity_line_item_id || '|' || strftime(line_item_usage_start_date, '%Y-%m-%dT%H:%M:%S') AS x_line_id,
    bill_payer_account_id AS BillingAccountId,
    CAST(NULL AS VARCHAR) AS BillingAccountName,
    line_item_usage_account_id AS SubAccountId,
    CAST(NULL AS VARCHAR) AS SubAccountName,
    'AWS' AS ProviderName,
    'AWS' AS PublisherName,
    CAST(NULL AS VARCHAR) AS InvoiceIssuerName,
    bill_invoice_id AS InvoiceId,
    bill_billing_period_start_date AS BillingPeriodStart,
    bill_billing_period_end_date AS BillingPeriodEnd,
    line_item_usage_start_date AS ChargePeriodStart,
    line_item_usage_end_date AS ChargePeriodEnd,
    CASE WHEN line_item_line_item_type = 'Usage' THEN 'Usage' WHEN line_item_line_item_type IN ('Credit', 'Refund')
         THEN 'Credit' ELSE 'Adjustment' END AS ChargeCategory,
    CAST(NULL AS VARCHAR) AS ChargeClass,
    CAST(NULL AS VARCHAR) AS ChargeDescription,
    CASE WHEN line_item_line_item_type = 'Usage' THEN 'Usage-Based' ELSE 'One-Time' END AS ChargeFrequency,
    CASE WHEN line_item_line_item_type = 'Usage' THEN 'Standard' END AS PricingCategory,
    line_item_unblended_cost AS BilledCost,
    line_item_unblended_cost AS EffectiveCost,
    pricing_public_on_demand_cost AS ListCost,
    CAST(NULL AS DOUBLE) AS ContractedCost,
    line_item_currency_code AS BillingCurrency,
    line_item_usage_amount * CASE WHEN pricing_unit = '1M tokens' THEN 1e6 WHEN pricing_unit = '1K tokens' THEN 1e3
                                  ELSE 1 END AS ConsumedQuantity,
    CASE WHEN pricing_unit LIKE '%tokens' THEN 'Tokens' ELSE pricing_unit END AS ConsumedUnit,
    line_item_usage_amount AS PricingQuantity,
    pricing_unit AS PricingUnit,
    coalesce(product_name, line_item_product_code) AS ServiceName,
    CASE WHEN line_item_product_code IN ('AmazonBedrock', 'AmazonSageMaker') THEN 'AI and Machine Learning'
         ELSE 'Other' END AS ServiceCategory,
    CAST(NULL AS VARCHAR) AS ServiceSubcategory,
    line_item_usage_type AS SkuId,
    CAST(NULL AS VARCHAR) AS SkuPriceId,
    line_item_operation AS SkuMeter,
    region AS RegionId,
    CAST(NULL AS VARCHAR) AS RegionName,
    CAST(NULL AS VARCHAR) AS AvailabilityZone,
    line_item_resource_id AS ResourceId,
    CAST(NULL AS VARCHAR) AS ResourceName,
    CAST(NULL AS VARCHAR) AS ResourceType,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountId,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountType,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountStatus,
    CAST(NULL AS VARCHAR) AS Tags,
    CAST(NULL AS VARCHAR) AS x_model,
    CASE WHEN line_item_usage_type LIKE '%cache-read-input-token%' THEN 'cache_read'
         WHEN line_item_usage_type LIKE '%cache-write-input-token%' THEN 'cache_write'
         WHEN line_item_usage_type LIKE '%input-token%' THEN 'input'
         WHEN line_item_usage_type LIKE '%output-token%' THEN 'output' END AS x_token_type,
    line_item_product_code IN ('AmazonBedrock', 'AmazonSageMaker') AS x_is_ai,
    'cur' AS x_source,
    filename AS x_source_file,
    CAST(NULL AS VARCHAR) AS x_ai_category
FROM lines
