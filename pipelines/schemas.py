"""Polars schemas of the warehouse tables, so readers and transforms agree with warehouse/migrations.

A reader ends with `conform(frame, COST_LINES)`: every column present, in order, with the table's type.
"""

from __future__ import annotations

import polars as pl

_S = pl.String
_F = pl.Float64
_I = pl.Int64
_T = pl.Datetime("us")
_B = pl.Boolean

COST_LINES: dict[str, pl.DataType] = {
    "x_line_id": _S,
    "BillingAccountId": _S,
    "BillingAccountName": _S,
    "SubAccountId": _S,
    "SubAccountName": _S,
    "ProviderName": _S,
    "PublisherName": _S,
    "InvoiceIssuerName": _S,
    "InvoiceId": _S,
    "BillingPeriodStart": _T,
    "BillingPeriodEnd": _T,
    "ChargePeriodStart": _T,
    "ChargePeriodEnd": _T,
    "ChargeCategory": _S,
    "ChargeClass": _S,
    "ChargeDescription": _S,
    "ChargeFrequency": _S,
    "PricingCategory": _S,
    "BilledCost": _F,
    "EffectiveCost": _F,
    "ListCost": _F,
    "ContractedCost": _F,
    "BillingCurrency": _S,
    "ConsumedQuantity": _F,
    "ConsumedUnit": _S,
    "PricingQuantity": _F,
    "PricingUnit": _S,
    "ServiceName": _S,
    "ServiceCategory": _S,
    "ServiceSubcategory": _S,
    "SkuId": _S,
    "SkuPriceId": _S,
    "SkuMeter": _S,
    "RegionId": _S,
    "RegionName": _S,
    "AvailabilityZone": _S,
    "ResourceId": _S,
    "ResourceName": _S,
    "ResourceType": _S,
    "CommitmentDiscountId": _S,
    "CommitmentDiscountType": _S,
    "CommitmentDiscountStatus": _S,
    "Tags": _S,
    "x_model": _S,
    "x_token_type": _S,
    "x_is_ai": _B,
    "x_ai_category": _S,
    "x_source": _S,
    "x_source_file": _S,
}

USAGE_EVENTS: dict[str, pl.DataType] = {
    "event_time": _T,
    "provider": _S,
    "model": _S,
    "raw_model": _S,
    "task": _S,
    "run_id": _S,
    "team": _S,
    "user_id": _S,
    "project": _S,
    "request_id": _S,
    "request_count": _I,
    "input_tokens": _I,
    "cache_read_tokens": _I,
    "cache_write_tokens": _I,
    "output_tokens": _I,
    "reasoning_tokens": _I,
    "is_batch": _B,
    "service_tier": _S,
    "status": _S,
    "outcome": _S,
    "latency_ms": _F,
    "cost_usd": _F,
    "price_source": _S,
    "x_source": _S,
    "x_source_file": _S,
}

TASKS: dict[str, pl.DataType] = {
    "task": _S,
    "description": _S,
    "human_minutes": _F,
    "hourly_rate_usd": _F,
    "review_minutes": _F,
    "latency_sensitive": _B,
    "eligible_models": pl.List(_S),
}

PRICES: dict[str, pl.DataType] = {
    "provider": _S,
    "model": _S,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "input_usd_per_mtok": _F,
    "output_usd_per_mtok": _F,
    "cache_read_usd_per_mtok": _F,
    "cache_write_usd_per_mtok": _F,
    "price_source": _S,
    # migration 0003: request-context variants and long-context tiers
    "price_variant": _S,
    "tier1_threshold_tokens": _I,
    "tier1_input_usd_per_mtok": _F,
    "tier1_output_usd_per_mtok": _F,
    "tier1_cache_read_usd_per_mtok": _F,
    "tier1_cache_write_usd_per_mtok": _F,
    "tier2_threshold_tokens": _I,
    "tier2_input_usd_per_mtok": _F,
    "tier2_output_usd_per_mtok": _F,
    "tier2_cache_read_usd_per_mtok": _F,
    "tier2_cache_write_usd_per_mtok": _F,
}

UNATTRIBUTED = "unattributed"


def conform(frame: pl.LazyFrame | pl.DataFrame, schema: dict[str, pl.DataType]):
    """Select exactly the schema's columns in order, casting each and adding missing ones as NULL."""
    present = set(frame.collect_schema().names())
    return frame.select(
        [
            (pl.col(name) if name in present else pl.lit(None)).cast(dtype, strict=False).alias(name)
            for name, dtype in schema.items()
        ]
    )
