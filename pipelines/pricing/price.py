"""Price usage events by joining the dated price table: no per-event Python (DESIGN rule 7).

The join runs on the distinct (provider, model, UTC date) keys of the usage, which are few, and is then
joined back to the events: this needs no sort of the events (an as-of join would) and keeps every event even
when its model has windows but none in force that day. Unpriced stays null, never 0 (DESIGN rule 3).
"""

from __future__ import annotations

import polars as pl

_DATE = "__price_date"
_KEY = ["provider", "model", _DATE]
_RATES = ["input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok", "cache_write_usd_per_mtok"]


def price_usage(usage: pl.LazyFrame, prices: pl.LazyFrame) -> pl.LazyFrame:
    """`usage` (USAGE_EVENTS columns) with `cost_usd` and `price_source` from the price in force that UTC day.

    Other columns pass through unchanged; `provider` and `model` must already be normalized.
    """
    columns = usage.collect_schema().names()
    events = usage.drop("cost_usd", "price_source", strict=False).with_columns(event_date().alias(_DATE))
    in_force = prices_in_force(events.select(_KEY).unique(), prices)
    return (
        events.join(in_force, on=_KEY, how="left", nulls_equal=False)
        .with_columns(cost_usd().alias("cost_usd"))
        .select(columns)
    )


def event_date() -> pl.Expr:
    """The event's UTC calendar day: USAGE_EVENTS stores `event_time` as naive UTC, the day genai-prices uses."""
    return pl.col("event_time").dt.date()


def prices_in_force(keys: pl.LazyFrame, prices: pl.LazyFrame) -> pl.LazyFrame:
    """One price row per (provider, model, date) key that has one: valid_from <= date < valid_to (null = open).

    The table never overlaps a key's windows; should a hand-made one, the latest valid_from wins, so the
    result is still one row per key.
    """
    valid = (pl.col("valid_from") <= pl.col(_DATE)) & (
        pl.col("valid_to").is_null() | (pl.col(_DATE) < pl.col("valid_to"))
    )
    return (
        keys.join(prices.select("provider", "model", "valid_from", "valid_to", *_RATES, "price_source"),
                  on=["provider", "model"], how="inner")
        .filter(valid)
        .group_by(_KEY)
        .agg(pl.col(*_RATES, "price_source").sort_by("valid_from").last())
    )


def cost_usd() -> pl.Expr:
    """USD for an event's tokens at its row's rates; null when no row is in force.

    input_tokens is uncached input only, so the four token counts are disjoint and each is billed once at its
    own rate. Rates follow genai-prices: no cache rate -> the input rate (the table already stores it so, this
    repeats it for hand-made tables); no input or output rate -> that side is not charged. Missing token counts
    count as zero.
    """
    def tokens(name: str) -> pl.Expr:
        return pl.col(name).fill_null(0).cast(pl.Float64)

    input_rate = pl.col("input_usd_per_mtok")
    total = (
        tokens("input_tokens") * input_rate.fill_null(0)
        + tokens("cache_read_tokens") * pl.coalesce("cache_read_usd_per_mtok", input_rate, pl.lit(0.0))
        + tokens("cache_write_tokens") * pl.coalesce("cache_write_usd_per_mtok", input_rate, pl.lit(0.0))
        + tokens("output_tokens") * pl.col("output_usd_per_mtok").fill_null(0)
    ) / 1_000_000
    return pl.when(pl.col("price_source").is_not_null()).then(total).otherwise(None)
