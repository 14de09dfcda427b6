"""The dated price table: genai-prices' bundled snapshot plus the config's overrides, one row per window.

Pricing is a join against this table (DESIGN rule 7), so it holds, for each (provider, model), the rates in
force over [valid_from, valid_to) (valid_to null = still in force), with no two rows of a key overlapping.
The table is small (a few thousand rows), so building it walks genai-prices' objects in plain Python; events
never are.

Rates keep genai-prices' meaning. A missing cache read or cache write rate means the library bills those tokens
as ordinary input (its usage units nest: cache reads are input tokens with a more specific price when one
exists), so the table stores the input rate there; every row therefore carries the effective rate per token
type. A missing input or output rate means that side is not charged (embeddings have no output rate).

Not carried yet (a later issue adds them), each taking the base case:
- tiered prices (long-context cliffs such as >200k input tokens): the base tier's rate;
- time-of-day prices (DeepSeek off-peak, `TimeOfDateConstraint`): ignored, the standard price applies;
- price variants selected by request context (batch processing, priority/flex tiers, fast mode): ignored,
  so `is_batch` events are priced at the standard rate;
- units other than text tokens (1h cache writes, audio/image/video tokens, web searches, per-request fees,
  pages, characters, durations): not in the table; models priced only by such units get no row.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib.metadata import version

import polars as pl

from pipelines import schemas
from pipelines.config import PriceOverride
from pipelines.models import normalize_model, normalize_provider, price_catalog

# Before any genai-prices start date and any plausible event; genai-prices' first price has no start.
EPOCH = date(1970, 1, 1)
_END = date.max  # stands for an open valid_to while computing windows
RATE_COLUMNS = ("input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok", "cache_write_usd_per_mtok")
_PRICE_KEYS = dict(zip(RATE_COLUMNS, ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")))
OVERRIDE_SOURCE = "override"


def genai_prices_source() -> str:
    return f"genai-prices {version('genai-prices')}"


def build_price_table(overrides: list[PriceOverride]) -> pl.DataFrame:
    """genai-prices rows, with each override laid over its provider+model on its dates (later overrides win).

    An override's provider and model are normalized like logged ids, so `bedrock` + `us.anthropic...` lands on
    the same key events do. A rate the override leaves empty is inherited from the row it covers, so an
    override can change just the input rate; where no row is covered, an empty cache rate means the input rate.
    """
    rows = [dict(r) for r in _genai_rows()]
    for override, (provider, model) in zip(overrides, _normalized_keys(overrides)):
        rows = _overlay(rows, override, provider, model)
    for row in rows:
        _fill_cache_rates(row)
    frame = pl.DataFrame(rows, schema=schemas.PRICES, orient="row") if rows else pl.DataFrame(schema=schemas.PRICES)
    return schemas.conform(frame, schemas.PRICES).sort("provider", "model", "valid_from")


def price_table_version(prices: pl.DataFrame) -> str:
    """A short hash of the table's content, independent of row order: changes exactly when a price changes."""
    canonical = schemas.conform(prices, schemas.PRICES).sort(list(schemas.PRICES), nulls_last=True)
    return hashlib.sha256(canonical.write_csv().encode()).hexdigest()[:16]


@cache
def _genai_rows() -> tuple[dict, ...]:
    """The snapshot's rows, raw (cache rates not yet filled). Built once per process (~0.1 s)."""
    source = genai_prices_source()
    out: list[dict] = []
    for entry in price_catalog():
        for valid_from, valid_to, rates in _windows(entry.info):
            if rates[_PRICE_KEYS["input_usd_per_mtok"]] is None and rates[_PRICE_KEYS["output_usd_per_mtok"]] is None:
                continue  # priced by other units only (audio hours, pages, requests): leave unpriced
            out.append(
                {
                    "provider": entry.provider,
                    "model": entry.model,
                    "valid_from": valid_from,
                    "valid_to": valid_to,
                    **{col: rates[key] for col, key in _PRICE_KEYS.items()},
                    "price_source": source,
                }
            )
    return tuple(out)


def _windows(info) -> list[tuple[date, date | None, dict[str, float | None]]]:
    """A model's prices as dated windows: one per start date, adjacent equal windows merged.

    Resolves each window's price the way `ModelInfo.get_prices` does (last active conditional wins, the first
    when none is active), at the window's first UTC day, skipping time-of-day conditions.
    """
    from genai_prices.types import ModelPrice, StartDateConstraint, TimeOfDateConstraint

    if isinstance(info.prices, ModelPrice):
        return [(EPOCH, None, _base_rates(info.prices))]
    conditionals = [c for c in info.prices if not isinstance(c.constraint, TimeOfDateConstraint)]
    if not conditionals:
        conditionals = list(info.prices[:1])
    starts = sorted(
        {EPOCH} | {c.constraint.start_date for c in conditionals if isinstance(c.constraint, StartDateConstraint)}
    )
    windows: list[tuple[date, date | None, dict]] = []
    for i, start in enumerate(starts):
        at = datetime(start.year, start.month, start.day, tzinfo=UTC)
        chosen = next(
            (c for c in reversed(conditionals) if c.constraint is None or c.constraint.active(at)),
            conditionals[0],
        )
        rates = _base_rates(chosen.prices)
        end = starts[i + 1] if i + 1 < len(starts) else None
        if windows and windows[-1][2] == rates:
            windows[-1] = (windows[-1][0], end, rates)
        else:
            windows.append((start, end, rates))
    return windows


def _base_rates(price) -> dict[str, float | None]:
    from genai_prices.types import TieredPrices

    out: dict[str, float | None] = {}
    for key in _PRICE_KEYS.values():
        value = getattr(price, key, None)
        if isinstance(value, TieredPrices):
            value = value.base
        out[key] = float(value) if isinstance(value, Decimal | int | float) else None
    return out


def _normalized_keys(overrides: list[PriceOverride]) -> list[tuple[str, str]]:
    if not overrides:
        return []
    keys = pl.DataFrame(
        {"provider": [o.provider for o in overrides], "model": [o.model for o in overrides]},
        schema={"provider": pl.String, "model": pl.String},
    ).select(
        normalize_provider(pl.col("provider")).alias("provider"),
        normalize_model(pl.col("provider"), pl.col("model")).alias("model"),
    )
    return list(keys.iter_rows())


def _overlay(rows: list[dict], override: PriceOverride, provider: str, model: str) -> list[dict]:
    """Clip the key's rows around the override's window and add override rows over it."""
    o_from, o_to = override.valid_from, override.valid_to or _END
    if o_to <= o_from:
        raise ValueError(f"price override {provider}/{model}: valid_to {o_to} is not after valid_from {o_from}")
    given = {col: getattr(override, col) for col in RATE_COLUMNS}
    kept: list[dict] = []
    covered: list[dict] = []
    for row in rows:
        if (row["provider"], row["model"]) != (provider, model):
            kept.append(row)
            continue
        r_from, r_to = row["valid_from"], row["valid_to"] or _END
        if r_to <= o_from or o_to <= r_from:
            kept.append(row)
            continue
        if r_from < o_from:
            kept.append({**row, "valid_to": o_from})
        if o_to < r_to:
            kept.append({**row, "valid_from": o_to})
        covered.append({**row, "valid_from": max(r_from, o_from), "valid_to": min(r_to, o_to)})
    pieces = _gaps(sorted(covered, key=lambda r: r["valid_from"]), o_from, o_to, provider, model)
    for piece in pieces:
        for col, value in given.items():
            if value is not None:
                piece[col] = float(value)
        piece["price_source"] = OVERRIDE_SOURCE
        if piece["valid_to"] == _END:
            piece["valid_to"] = None
    return kept + _merge_adjacent(pieces)


def _gaps(covered: list[dict], start: date, end: date, provider: str, model: str) -> list[dict]:
    """The covered pieces plus empty-rate pieces for the parts of [start, end) no row covered."""
    empty = {"provider": provider, "model": model, **dict.fromkeys(RATE_COLUMNS)}
    out: list[dict] = []
    cursor = start
    for piece in covered:
        if piece["valid_from"] > cursor:
            out.append({**empty, "valid_from": cursor, "valid_to": piece["valid_from"]})
        out.append(piece)
        cursor = piece["valid_to"]
    if cursor < end:
        out.append({**empty, "valid_from": cursor, "valid_to": end})
    return out


def _merge_adjacent(pieces: list[dict]) -> list[dict]:
    merged: list[dict] = []
    for piece in pieces:
        prev = merged[-1] if merged else None
        if prev and prev["valid_to"] == piece["valid_from"] and all(prev[c] == piece[c] for c in RATE_COLUMNS):
            prev["valid_to"] = piece["valid_to"]
        else:
            merged.append(piece)
    return merged


def _fill_cache_rates(row: dict) -> None:
    for col in ("cache_read_usd_per_mtok", "cache_write_usd_per_mtok"):
        if row[col] is None:
            row[col] = row["input_usd_per_mtok"]
