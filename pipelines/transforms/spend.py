"""spend_daily: the invoice side, rolled up per day. Billed and effective cost stay separate columns."""

from __future__ import annotations

import polars as pl

SPEND_DAILY_KEYS = [
    "day",
    "provider",
    "service_name",
    "service_category",
    "sub_account_id",
    "model",
    "charge_category",
    "is_ai",
    "billing_currency",
]


def charge_day() -> pl.Expr:
    """A billed line belongs to the UTC day its charge period starts on."""
    return pl.col("ChargePeriodStart").dt.date().alias("day")


def spend_daily(cost_lines: pl.LazyFrame) -> pl.LazyFrame:
    return (
        cost_lines.with_columns(
            charge_day(),
            pl.col("ProviderName").alias("provider"),
            pl.col("ServiceName").alias("service_name"),
            pl.col("ServiceCategory").alias("service_category"),
            pl.col("SubAccountId").alias("sub_account_id"),
            pl.col("x_model").alias("model"),
            pl.col("ChargeCategory").alias("charge_category"),
            pl.col("x_is_ai").fill_null(False).alias("is_ai"),
            pl.col("BillingCurrency").alias("billing_currency"),
        )
        .group_by(SPEND_DAILY_KEYS)
        .agg(
            pl.col("BilledCost").sum().alias("billed_cost"),
            pl.col("EffectiveCost").sum().alias("effective_cost"),
            pl.len().cast(pl.Int64).alias("line_count"),
        )
        .sort(SPEND_DAILY_KEYS, nulls_last=True)
    )
