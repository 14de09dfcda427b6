"""usage_daily: the request-log side per day, provider, model, task and team, with price coverage inputs."""

from __future__ import annotations

import polars as pl

USAGE_DAILY_KEYS = ["day", "provider", "model", "task", "team"]
TOKEN_COLUMNS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"]


def event_day() -> pl.Expr:
    return pl.col("event_time").dt.date().alias("day")


def total_tokens() -> pl.Expr:
    """Every token billed once: reasoning tokens are already inside output_tokens."""
    return pl.sum_horizontal("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")


def is_unpriced() -> pl.Expr:
    return pl.col("cost_usd").is_null()


def priced_sum(column: str) -> pl.Expr:
    """Sum of the priced values; NULL (not $0) when nothing in the group was priced."""
    return pl.when(pl.col(column).is_not_null().any()).then(pl.col(column).sum()).otherwise(None).alias(column)


def usage_daily(usage: pl.LazyFrame) -> pl.LazyFrame:
    return (
        usage.with_columns(event_day(), total_tokens().alias("total_tokens"))
        .group_by(USAGE_DAILY_KEYS)
        .agg(
            pl.col("request_count").sum().alias("requests"),
            pl.col("request_count").filter(pl.col("status") == "error").sum().alias("error_requests"),
            pl.col("request_count").filter(is_unpriced()).sum().alias("unpriced_requests"),
            *[pl.col(c).sum() for c in TOKEN_COLUMNS],
            pl.col("total_tokens").filter(~is_unpriced()).sum().alias("priced_tokens"),
            pl.col("total_tokens").sum(),
            priced_sum("cost_usd"),
        )
        .with_columns(pl.col(c).cast(pl.Int64) for c in ["requests", "error_requests", "unpriced_requests"])
        .sort(USAGE_DAILY_KEYS, nulls_last=True)
    )
