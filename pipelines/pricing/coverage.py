"""How much of each source's usage has a price: unpriced usage is not free (rule 3 in docs/architecture.md), so say how much.

Requests count `request_count` (1 per row when missing), so aggregate sources weigh what they stand for.
Tokens are input + cache read + cache write + output (reasoning is part of output). A row is priced when its
`cost_usd` is not null.
"""

from __future__ import annotations

import polars as pl

TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")


def total_tokens() -> pl.Expr:
    return pl.sum_horizontal(*(pl.col(c).fill_null(0) for c in TOKEN_COLUMNS))


def price_coverage(usage: pl.LazyFrame) -> pl.LazyFrame:
    """Per x_source: requests, priced_requests, tokens, priced_tokens, priced_token_share (null when no tokens)."""
    requests = pl.col("request_count").fill_null(1)
    priced = pl.col("cost_usd").is_not_null()
    return (
        usage.group_by("x_source")
        .agg(
            requests.sum().alias("requests"),
            requests.filter(priced).sum().alias("priced_requests"),
            total_tokens().sum().alias("tokens"),
            total_tokens().filter(priced).sum().alias("priced_tokens"),
        )
        .with_columns(
            pl.when(pl.col("tokens") > 0)
            .then(pl.col("priced_tokens") / pl.col("tokens"))
            .otherwise(None)
            .alias("priced_token_share")
        )
        .sort("x_source", nulls_last=True)
    )
