"""spend_daily: the invoice side, rolled up per day. Billed and effective cost stay separate columns.

Amounts stay in each line's `billing_currency` (the invoice as it is); `billed_cost_reporting` and
`effective_cost_reporting` are the same sums in the reporting currency, each line at its charge day's rate
(`x_fx_rate`, added by pipelines/transforms/currency.py; NULL when the lines carry no rate).
"""

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


def in_reporting(amount: str) -> pl.Expr:
    """Sum of the amounts at their lines' rates; NULL unless every line of the group has a rate."""
    rated = pl.col(amount) * pl.col("x_fx_rate")
    return pl.when(pl.col("x_fx_rate").is_not_null().all()).then(rated.sum()).otherwise(None)


def spend_daily(cost_lines: pl.LazyFrame) -> pl.LazyFrame:
    if "x_fx_rate" not in cost_lines.collect_schema().names():
        cost_lines = cost_lines.with_columns(pl.lit(None, pl.Float64).alias("x_fx_rate"))
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
            in_reporting("BilledCost").alias("billed_cost_reporting"),
            in_reporting("EffectiveCost").alias("effective_cost_reporting"),
        )
        .sort(SPEND_DAILY_KEYS, nulls_last=True)
    )
