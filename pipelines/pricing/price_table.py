"""The dated price table: genai-prices' bundled snapshot plus the config's overrides, one row per window.

Pricing is a join against this table (rule 7 in docs/architecture.md), so it holds, for each (provider, model), the rates in
force over [valid_from, valid_to) (valid_to null = still in force), with no two rows of a key overlapping.
The table is small (a few thousand rows), so building it walks genai-prices' objects in plain Python; events
never are.

Rates keep genai-prices' meaning. A missing cache read or cache write rate means the library bills those tokens
as ordinary input (its usage units nest: cache reads are input tokens with a more specific price when one
exists), so the table stores the input rate there; every row therefore carries the effective rate per token
type. A missing input or output rate means that side is not charged (embeddings have no output rate).

Also carried (migration 0003, and 0030 for the 1-hour cache write rate):
- 1-hour prompt-cache writes: `cache_write_1h_usd_per_mtok` is genai-prices' `cache_write_1h_mtok`; where the
  library lists none it is 2x the input rate, Anthropic's documented price of a 1-hour write (5-minute writes,
  `cache_write_usd_per_mtok`, are 1.25x). Only events that report a TTL (`usage_events.cache_write_1h_tokens`)
  use it; every other cache write is priced at the 5-minute rate, as genai-prices does.
- long-context tiers: `tierN_threshold_tokens` and the tier's four rates. genai-prices' cliff model: when the
  request's total input (uncached + cache read + cache write) is greater than the threshold, every token of
  the request is billed at the tier's rates. Up to two tiers (the most any model has in 0.2.3).
- request-context variants (`price_variant`): genai-prices' `price_variants` for batch processing
  (`processing: batch` -> 'batch') and service tiers (`service_tier: flex|priority|fast` -> that name), one
  row per window in which the library has such a price, resolved like `ModelInfo.get_prices(t, context)`: the
  standard price with the variant's keys laid over it. Only for a provider's own models: `calc_price`
  ignores the context for models a provider borrows through fallback (Azure's OpenAI models), so those get
  no variant rows and fall back to the documented discounts in `pipelines/pricing/variants.py`.

Not carried, each taking the base case:
- time-of-day prices (DeepSeek off-peak, `TimeOfDateConstraint`): ignored, the standard price applies;
- variants selected by other context keys (Anthropic `speed: fast`, OpenRouter routes, Perplexity search);
- units other than text tokens (audio/image/video tokens, web searches, per-request fees, pages,
  characters, durations): not in the table; models priced only by such units get no row.
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
RATE_COLUMNS = ("input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok", "cache_write_usd_per_mtok",
                "cache_write_1h_usd_per_mtok")
_PRICE_KEYS = dict(zip(RATE_COLUMNS, ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok",
                                      "cache_write_1h_mtok")))
# A 1-hour cache write costs twice the base input rate (Anthropic's prompt-caching prices); used where
# genai-prices lists no `cache_write_1h_mtok` for a model.
CACHE_WRITE_1H_INPUT_MULTIPLE = 2.0
TIERS = (1, 2)


def tier_columns(tier: int) -> tuple[str, ...]:
    """The tier's rate columns, in RATE_COLUMNS order."""
    return tuple(f"tier{tier}_{col}" for col in RATE_COLUMNS)


def tier_threshold(tier: int) -> str:
    return f"tier{tier}_threshold_tokens"


TIER_COLUMNS = tuple(c for t in TIERS for c in (tier_threshold(t), *tier_columns(t)))
PRICED_COLUMNS = RATE_COLUMNS + TIER_COLUMNS  # everything a window's price consists of
OVERRIDE_SOURCE = "override"
STANDARD = "standard"
BATCH = "batch"


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
    return schemas.conform(frame, schemas.PRICES).sort("provider", "model", "price_variant", "valid_from")


def price_table_version(prices: pl.DataFrame) -> str:
    """A short hash of the table's content, independent of row order: changes exactly when a price changes."""
    canonical = schemas.conform(prices, schemas.PRICES).sort(list(schemas.PRICES), nulls_last=True)
    return hashlib.sha256(canonical.write_csv().encode()).hexdigest()[:16]


@cache
def _genai_rows() -> tuple[dict, ...]:
    """The snapshot's rows, raw (cache rates not yet filled). Built once per process (~0.3 s)."""
    source = genai_prices_source()
    out: list[dict] = []
    for entry in price_catalog():
        contexts = [(STANDARD, None)]
        if entry.source_provider == entry.provider:
            contexts += _variant_contexts(entry.info)
        for variant, context in contexts:
            for valid_from, valid_to, rates in _windows(entry.info, context):
                if rates["input_usd_per_mtok"] is None and rates["output_usd_per_mtok"] is None:
                    continue  # priced by other units only (audio hours, pages, requests): leave unpriced
                out.append(
                    {
                        "provider": entry.provider,
                        "model": entry.model,
                        "valid_from": valid_from,
                        "valid_to": valid_to,
                        **rates,
                        "price_source": source,
                        "price_variant": variant,
                    }
                )
    return tuple(out)


def variant_name(when: dict[str, str]) -> str | None:
    """The `price_variant` a genai-prices variant condition prices, or None for contexts usage does not carry."""
    if when == {"processing": "batch"}:
        return BATCH
    if set(when) == {"service_tier"} and when["service_tier"] not in ("default", STANDARD):
        return when["service_tier"].lower()
    return None


def _variant_contexts(info) -> list[tuple[str, dict[str, str]]]:
    seen: dict[str, dict[str, str]] = {}
    for variant in info.price_variants or ():
        name = variant_name(variant.when)
        if name is not None and name not in seen:
            seen[name] = dict(variant.when)
    return list(seen.items())


def _windows(info, context: dict[str, str] | None = None) -> list[tuple[date, date | None, dict[str, float | None]]]:
    """A model's prices (standard, or the variant for `context`) as dated windows, adjacent equal ones merged.

    Resolves each window's price the way `ModelInfo.get_prices(t, context)` does at the window's first UTC
    day: last active conditional wins (the first when none is active), then the keys of every active variant
    matching the context laid over it, the first such variant winning per key. Time-of-day conditions are
    skipped. For a context, a window with no active matching variant has no row (the standard row and the
    fallback discount price it).
    """
    from genai_prices.types import ModelPrice, StartDateConstraint, TimeOfDateConstraint

    def dated(constraint) -> bool:
        return isinstance(constraint, StartDateConstraint)

    variants = [
        v for v in (info.price_variants or ()) if context is not None
        and all(context.get(k) == val for k, val in v.when.items()) and not isinstance(v.constraint, TimeOfDateConstraint)
    ]
    if isinstance(info.prices, ModelPrice):
        conditionals = []
    else:
        conditionals = [c for c in info.prices if not isinstance(c.constraint, TimeOfDateConstraint)]
        if not conditionals:
            conditionals = list(info.prices[:1])
    starts = sorted(
        {EPOCH}
        | {c.constraint.start_date for c in conditionals if dated(c.constraint)}
        | {v.constraint.start_date for v in variants if dated(v.constraint)}
    )
    windows: list[tuple[date, date | None, dict | None]] = []
    for i, start in enumerate(starts):
        at = datetime(start.year, start.month, start.day, tzinfo=UTC)
        if conditionals:
            standard = next(
                (c for c in reversed(conditionals) if c.constraint is None or c.constraint.active(at)),
                conditionals[0],
            ).prices
        else:
            standard = info.prices
        price = {key: getattr(standard, key, None) for key in _PRICE_KEYS.values()}
        if context is not None:
            active = [v for v in variants if v.constraint is None or v.constraint.active(at)]
            if not active:
                price = None
            for variant in reversed(active):  # reversed so the first active variant's keys win
                price.update({k: v for k, v in variant.prices.__dict__.items() if k in price and v is not None})
        rates = _rates(price) if price is not None else None
        end = starts[i + 1] if i + 1 < len(starts) else None
        if windows and windows[-1][2] == rates:
            windows[-1] = (windows[-1][0], end, rates)
        else:
            windows.append((start, end, rates))
    return [w for w in windows if w[2] is not None]


def _rates(price: dict) -> dict[str, float | int | None]:
    """Base rates and up to two long-context tiers, each as the rate of every token type at that tier.

    A tier is a threshold on total input where any key's rate changes; a key without tiers keeps its base rate
    there, and a key whose tiers start elsewhere takes its highest tier starting at or below the threshold.
    """
    from genai_prices.types import TieredPrices

    thresholds = sorted({t.start for v in price.values() if isinstance(v, TieredPrices) for t in v.tiers})
    if len(thresholds) > len(TIERS):
        raise ValueError(f"price with {len(thresholds)} tiers; the table holds {len(TIERS)}: {price}")

    def at(value, threshold: int | None) -> float | None:
        if isinstance(value, TieredPrices):
            applicable = value.base
            if threshold is not None:
                for tier in value.tiers:
                    if tier.start <= threshold:
                        applicable = tier.price
            value = applicable
        return float(value) if isinstance(value, Decimal | int | float) else None

    out: dict[str, float | int | None] = {col: at(price[key], None) for col, key in _PRICE_KEYS.items()}
    for tier in TIERS:
        threshold = thresholds[tier - 1] if tier <= len(thresholds) else None
        out[tier_threshold(tier)] = threshold
        for col, key in zip(tier_columns(tier), _PRICE_KEYS.values()):
            out[col] = at(price[key], threshold) if threshold is not None else None
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
    """Clip the key's rows around the override's window and add override rows over it.

    An override is a flat price the user pays: its rows carry no long-context tiers, and the key's variant
    rows (batch, service tiers) are cut out of its window, so such requests get the override's rate with the
    documented variant discount (pipelines/pricing/variants.py) instead of a list variant price.
    """
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
        if row["price_variant"] == STANDARD:
            covered.append({**row, "valid_from": max(r_from, o_from), "valid_to": min(r_to, o_to)})
    pieces = _gaps(sorted(covered, key=lambda r: r["valid_from"]), o_from, o_to, provider, model)
    for piece in pieces:
        for col, value in given.items():
            if value is not None:
                piece[col] = float(value)
        piece.update(dict.fromkeys(TIER_COLUMNS))
        piece["price_source"] = OVERRIDE_SOURCE
        if piece["valid_to"] == _END:
            piece["valid_to"] = None
    return kept + _merge_adjacent(pieces)


def _gaps(covered: list[dict], start: date, end: date, provider: str, model: str) -> list[dict]:
    """The covered pieces plus empty-rate pieces for the parts of [start, end) no row covered."""
    empty = {"provider": provider, "model": model, "price_variant": STANDARD, **dict.fromkeys(PRICED_COLUMNS)}
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
        if prev and prev["valid_to"] == piece["valid_from"] and all(prev[c] == piece[c] for c in PRICED_COLUMNS):
            prev["valid_to"] = piece["valid_to"]
        else:
            merged.append(piece)
    return merged


def _fill_cache_rates(row: dict) -> None:
    """Every row carries the effective rate of each token type: cache rates the library leaves empty are the
    input rate (its own fallback), the 1-hour write rate twice the input rate (Anthropic's price of one)."""
    for rates in (RATE_COLUMNS, *(tier_columns(t) for t in TIERS)):
        inp, _, cache_read, cache_write, cache_write_1h = rates
        for col in (cache_read, cache_write):
            if row[col] is None:
                row[col] = row[inp]
        if row[cache_write_1h] is None and row[inp] is not None:
            row[cache_write_1h] = row[inp] * CACHE_WRITE_1H_INPUT_MULTIPLE
