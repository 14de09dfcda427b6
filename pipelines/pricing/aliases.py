"""Model aliases from the config (`model_aliases`): names only the user's logs use, mapped to priced models.

An Azure OpenAI deployment (`prod-gpt4o`) or a gateway route logs a name no price table knows; the alias says
which model it is. Aliases are applied to usage before pricing, on the distinct (provider, raw_model, model)
triples (few), then written back to the rows they name, so the work does not grow with the events. The target
is normalized with the row's provider like any logged id, so `gpt-4o` becomes the price table's id for that
provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import polars as pl

from pipelines.config import ModelAlias
from pipelines.models import normalize_model, normalize_provider

_TRIPLE = ["provider", "raw_model", "model"]


def apply_model_aliases(usage: pl.LazyFrame, aliases: Sequence[ModelAlias]) -> pl.LazyFrame:
    """`usage` with `model` rewritten where `raw_model` or `model` equals an alias (case-insensitive).

    An alias with a provider applies to that provider's rows only and wins over one without. `raw_model` is
    kept as logged, so the original name stays visible. Only `model` is replaced (an expression, no join), so
    the other columns are never copied.
    """
    if not aliases:
        return usage
    table = pl.DataFrame(
        {
            "alias": [a.alias.strip().lower() for a in aliases],
            "alias_provider": [a.provider for a in aliases],
            "target": [a.model for a in aliases],
            "position": list(range(len(aliases))),
        },
        schema={"alias": pl.String, "alias_provider": pl.String, "target": pl.String, "position": pl.Int64},
    ).with_columns(normalize_provider(pl.col("alias_provider")).alias("alias_provider"))
    # `model` first so the result is named like it (a struct takes its first field's name).
    return usage.with_columns(
        pl.struct("model", "provider", "raw_model")
        .map_batches(partial(_aliased_batch, table), return_dtype=pl.String, is_elementwise=True)
        .alias("model")
    )


def _aliased_batch(table: pl.DataFrame, rows: pl.Series) -> pl.Series:
    """The batch's `model` with aliases applied. Names are compared per distinct value; only the rows whose
    raw_model or model is an alias name (usually few) are resolved, then written back in place."""
    frame = rows.struct.unnest()
    model = frame["model"].cast(pl.String)
    hit = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    for column in ("raw_model", "model"):
        distinct = frame[column].cast(pl.String).unique().drop_nulls()
        names = distinct.filter(distinct.str.strip_chars().str.to_lowercase().is_in(table["alias"].implode()))
        if names.len():
            hit = hit | frame[column].cast(pl.String).is_in(names.implode())
    rows_hit = hit.arg_true()
    if not rows_hit.len():
        return model
    hits = frame.select(pl.col(_TRIPLE).cast(pl.String)).gather(rows_hit)
    triples = hits.unique()
    candidates = pl.concat(
        [
            triples.with_columns(pl.col(column).str.strip_chars().str.to_lowercase().alias("alias"), pl.lit(rank).alias("by"))
            for rank, column in enumerate(("raw_model", "model"))
        ]
    )
    # Specific provider first, then any provider; within a rank, raw_model before model, later config entries win.
    matched = (
        candidates.join(table, on="alias", how="inner")
        .filter(pl.col("alias_provider").is_null() | (pl.col("alias_provider") == pl.col("provider")))
        .with_columns(pl.col("alias_provider").is_null().alias("generic"))
        .sort("generic", "by", pl.col("position"), descending=[False, False, True])
        .group_by(_TRIPLE, maintain_order=True)
        .agg(pl.col("target").first())
        .with_columns(normalize_model(pl.col("provider"), pl.col("target")).alias("__aliased"))
        .select(*_TRIPLE, "__aliased")
    )
    resolved = hits.join(matched, on=_TRIPLE, how="left", maintain_order="left", nulls_equal=True).select(
        pl.coalesce("__aliased", "model")
    )
    return model.clone().scatter(rows_hit, resolved.to_series())
