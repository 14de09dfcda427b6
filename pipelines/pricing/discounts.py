"""Per-provider negotiated discounts (`config.prices.discounts`), applied to list prices on their dates.

A discount scales every rate of every model of its provider on the UTC days in [valid_from, valid_to). It
applies to genai-prices' list prices (and their batch and service-tier variants), not to `override` rows: an
override is already the price the user pays, so discounting it again would count the agreement twice. When
two discounts of one provider overlap, the later one in the config wins (they do not stack), like overrides.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pipelines.config import ProviderDiscount
from pipelines.models import normalize_provider

_SCHEMA = {
    "provider": pl.String,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "percent": pl.Float64,
    "discount_label": pl.String,
    "position": pl.Int64,
}


def discounts_frame(discounts: Sequence[ProviderDiscount]) -> pl.LazyFrame:
    """The config's discounts as a small frame, providers normalized like usage (`bedrock` -> `aws`)."""
    for d in discounts:
        if d.valid_to is not None and d.valid_to <= d.valid_from:
            raise ValueError(f"discount for {d.provider}: valid_to {d.valid_to} is not after valid_from {d.valid_from}")
    frame = pl.LazyFrame(
        {
            "provider": [d.provider for d in discounts],
            "valid_from": [d.valid_from for d in discounts],
            "valid_to": [d.valid_to for d in discounts],
            "percent": [float(d.percent) for d in discounts],
            "discount_label": [f"; discount -{d.percent:g}%" for d in discounts],
            "position": list(range(len(discounts))),
        },
        schema=_SCHEMA,
    )
    return frame.with_columns(normalize_provider(pl.col("provider")).alias("provider"))


def discounts_in_force(keys: pl.LazyFrame, discounts: pl.LazyFrame, date_column: str) -> pl.LazyFrame:
    """One row per (provider, date) key with a discount in force: its percent and price_source label."""
    valid = (pl.col("valid_from") <= pl.col(date_column)) & (
        pl.col("valid_to").is_null() | (pl.col(date_column) < pl.col("valid_to"))
    )
    return (
        keys.join(discounts, on="provider", how="inner")
        .filter(valid)
        .group_by("provider", date_column)
        .agg(pl.col("percent", "discount_label").sort_by("position").last())
    )
