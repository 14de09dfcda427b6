"""Price usage events by joining the dated price table: no per-event Python (rule 7 in docs/architecture.md).

Everything that depends only on (provider, model, UTC date, price variant) is resolved on the distinct keys of
the usage, which are few: the standard row in force, the variant row (batch, service tier) or the documented
variant discount, the provider discount, and the `price_source` text for each long-context tier. That frame is
joined back to the events, which then only pick a tier from their own token counts and multiply. This needs no
sort of the events (an as-of join would) and keeps every event even when its model has no price that day.
Unpriced stays null, never 0 (rule 3 in docs/architecture.md).

`price_source` names what was applied, in order: the table's source (`genai-prices 0.2.3` or `override`), the
variant (`; batch price` = genai-prices' own batch rate, `; batch -50%` = the documented discount, `; priority:
standard price (no rate known)`), the tier (`; input >200000 tokens`), and the provider discount
(`; discount -12%`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import polars as pl

from pipelines.config import ModelAlias, ProviderDiscount
from pipelines.pricing.discounts import discounts_frame, discounts_in_force
from pipelines.pricing.price_table import (
    CACHE_WRITE_1H_INPUT_MULTIPLE,
    OVERRIDE_SOURCE,
    RATE_COLUMNS,
    STANDARD,
    TIER_COLUMNS,
    TIERS,
    tier_columns,
    tier_threshold,
)
from pipelines.pricing.variants import (
    VARIANT_FALLBACKS,
    event_variant,
    explicit_label,
    fallbacks_frame,
    unknown_label,
)

_DATE = "__price_date"
_VARIANT = "__price_variant"
_KEY = ["provider", "model", _DATE, _VARIANT]
_THRESHOLDS = tuple(tier_threshold(t) for t in TIERS)
_ALL_RATES = RATE_COLUMNS + tuple(c for t in TIERS for c in tier_columns(t))
_PRICE_COLUMNS = RATE_COLUMNS + TIER_COLUMNS + ("price_source",)
_SOURCES = tuple(f"__source{level}" for level in (0, *TIERS))
_PK = "__price_key"
_KID = "__key_id"
_ROW = "__rate_row"
_LEVELS = len(TIERS) + 1
_TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens")
# Codes for price_key: a category set of its own, so other code's categoricals neither share nor grow it.
_KEY_CATEGORIES = pl.Categorical(pl.Categories("aispend_price_key"))
# Bump when the rules in this package change how a price is computed, so loaded usage is repriced.
PRICING_RULES = "3: tiers, variants, variant fallbacks, provider discounts, aliases, 1-hour cache writes"


def price_usage(
    usage: pl.LazyFrame, prices: pl.LazyFrame, discounts: Sequence[ProviderDiscount] = ()
) -> pl.LazyFrame:
    """`usage` (USAGE_EVENTS columns) with `cost_usd` and `price_source` from the price in force that UTC day.

    Other columns pass through unchanged; `provider` and `model` must already be normalized (and aliased).
    Per event the work is integer: one exact key, two single-integer joins (the key's tier thresholds, then the
    chosen tier's rates and source), one arithmetic expression. The other columns are never gathered by a join:
    the two priced columns are laid beside them, in the same row order (left joins keep it).
    """
    columns = usage.collect_schema().names()
    events = usage.drop("cost_usd", "price_source", strict=False)
    for name in ("request_count", "is_batch", "service_tier", "cache_write_1h_tokens"):  # optional outside USAGE_EVENTS
        if name not in columns:
            events = events.with_columns(pl.lit(None).alias(name))
    # Read by the distinct keys, the pricing and the pass-through: cache so an upstream plan (aliases,
    # normalization, a reader's parse) runs once, not once per use (measured 3x slower without, bench/).
    events = events.with_columns(price_key().alias(_PK)).cache()
    keys = (
        events.select(_PK, "provider", "model", event_date().alias(_DATE), "service_tier", "is_batch")
        .unique(subset=_PK, keep="any")
        .with_columns(event_variant().alias(_VARIANT))
        .cache()  # key_prices reads it four times
    )
    keyed = key_prices(keys, prices, discounts_frame(discounts)).with_row_index(_KID).cache()
    priced = (
        events.select(_PK, "request_count", *_TOKENS)
        .join(keyed.select(_PK, _KID, *_THRESHOLDS), on=_PK, how="left", maintain_order="left")
        .select(*_TOKENS, (pl.col(_KID).cast(pl.UInt64) * _LEVELS + tier_level().cast(pl.UInt64)).alias(_ROW))
        .join(_rate_rows(keyed), on=_ROW, how="left", maintain_order="left")
        .select(cost_usd().alias("cost_usd"), "price_source")
    )
    return pl.concat([events.drop(_PK), priced], how="horizontal").select(columns)


def price_key() -> pl.Expr:
    """One exact unsigned 128-bit integer per (provider, model, UTC date, service tier, batch flag).

    Joining and de-duplicating on one integer is several times faster than on four columns of which two are
    strings. Each part takes 32 bits: the strings are their codes in a process-wide category set (stable for the
    process, so every batch of a plan agrees), shifted by one so null has its own value; the tier part is 0 for
    a batch request (batch wins over any tier), 1 for no tier, else its code + 2; the date is days + 2**31 + 1.
    Exact while the set holds under 2**32 - 2 strings (Polars' own UInt32 code limit) and dates lie within
    +-5.8 million years, which the events' dates and ids do.
    """

    def code(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.String).cast(_KEY_CATEGORIES).to_physical().cast(pl.UInt128)

    provider = (code("provider") + 1).fill_null(0)
    model = (code("model") + 1).fill_null(0)
    tier = (
        pl.when(pl.col("is_batch").fill_null(False)).then(pl.lit(0, dtype=pl.UInt128))
        .otherwise((code("service_tier") + 2).fill_null(1))
    )
    day = (event_date().cast(pl.Int64) + (2**31 + 1)).cast(pl.UInt128).fill_null(0)
    return (provider * 2**96) + (model * 2**64) + (tier * 2**32) + day


def _rate_rows(keyed: pl.LazyFrame) -> pl.LazyFrame:
    """Per key and tier level (0 base, else the tier): the four effective rates and the price_source text.

    A tier row only for keys that have the tier (an event reaches a tier only past its threshold): most models
    have none, so the join's table stays about one row per key.
    """
    return pl.concat(
        [
            keyed.filter(pl.lit(True) if level == 0 else pl.col(tier_threshold(level)).is_not_null()).select(
                (pl.col(_KID).cast(pl.UInt64) * _LEVELS + level).alias(_ROW),
                *(pl.col(f"tier{level}_{rate}" if level else rate).alias(rate) for rate in RATE_COLUMNS),
                pl.col(_SOURCES[level]).alias("price_source"),
            )
            for level in (0, *TIERS)
        ]
    )


def event_date() -> pl.Expr:
    """The event's UTC calendar day: USAGE_EVENTS stores `event_time` as naive UTC, the day genai-prices uses."""
    return pl.col("event_time").dt.date()


def _with_variant(prices: pl.LazyFrame) -> pl.LazyFrame:
    """A table from before migrations 0003 and 0030 (or hand-made) has only standard rows, no tiers and no
    1-hour cache write rate (cost_usd then takes twice the input rate for one)."""
    names = prices.collect_schema().names()
    missing = [c for c in ("price_variant", "cache_write_1h_usd_per_mtok", *TIER_COLUMNS) if c not in names]
    return prices.with_columns(
        *(pl.lit(STANDARD if c == "price_variant" else None).alias(c) for c in missing)
    ).with_columns(pl.col("price_variant").fill_null(STANDARD))


def prices_in_force(keys: pl.LazyFrame, prices: pl.LazyFrame) -> pl.LazyFrame:
    """One price row per (provider, model, date[, price_variant]) key that has one in force that date.

    valid_from <= date < valid_to (null = open). Keys without `price_variant` look up standard rows. The table
    never overlaps a key's windows; should a hand-made one, the latest valid_from wins.
    """
    if "price_variant" not in keys.collect_schema().names():
        keys = keys.with_columns(pl.lit(STANDARD).alias("price_variant"))
    key = keys.collect_schema().names()
    valid = (pl.col("valid_from") <= pl.col(_DATE)) & (
        pl.col("valid_to").is_null() | (pl.col(_DATE) < pl.col("valid_to"))
    )
    return (
        keys.join(
            _with_variant(prices).select("provider", "model", "price_variant", "valid_from", "valid_to", *_PRICE_COLUMNS),
            on=["provider", "model", "price_variant"],
            how="inner",
        )
        .filter(valid)
        .sort("valid_from", maintain_order=True)
        .unique(subset=key, keep="last")
        .select(*key, *_PRICE_COLUMNS)
    )


def key_prices(keys: pl.LazyFrame, prices: pl.LazyFrame, discounts: pl.LazyFrame) -> pl.LazyFrame:
    """Per key row (provider, model, date, variant, and any other columns `keys` carries): effective base and
    tier rates, thresholds, and a source per tier."""
    standard = prices_in_force(keys.select("provider", "model", _DATE).unique(), prices).drop("price_variant")
    variant = (
        prices_in_force(
            keys.filter(pl.col(_VARIANT) != STANDARD).select(
                "provider", "model", _DATE, pl.col(_VARIANT).alias("price_variant")
            ),
            prices,
        )
        .rename({"price_variant": _VARIANT})
        .rename({c: f"{c}__v" for c in _PRICE_COLUMNS})
    )
    fallback = fallbacks_frame().rename({"variant": _VARIANT, "multiplier": "__fallback", "label": "__fallback_label"})
    discount = discounts_in_force(keys.select("provider", _DATE).unique(), discounts, _DATE)

    has_variant = pl.col("price_source__v").is_not_null()
    base_source = pl.when(has_variant).then(pl.col("price_source__v")).otherwise(pl.col("price_source"))
    scale = pl.when(has_variant).then(1.0).otherwise(pl.col("__fallback").fill_null(1.0))
    discounted = pl.col("percent").is_not_null() & (base_source != OVERRIDE_SOURCE)
    scale = scale * pl.when(discounted).then(1 - pl.col("percent") / 100).otherwise(1.0)
    variant_label = (
        pl.when(pl.col(_VARIANT) == STANDARD).then(pl.lit(""))
        .when(has_variant).then(explicit_label(pl.col(_VARIANT)))
        .when(pl.col("__fallback").is_not_null()).then(pl.col("__fallback_label"))
        .otherwise(unknown_label(pl.col(_VARIANT)))
    )
    discount_label = pl.when(discounted).then(pl.col("discount_label")).otherwise(pl.lit(""))

    def tier_label(threshold: str) -> pl.Expr:
        return pl.lit("; input >") + pl.col(threshold).cast(pl.String) + pl.lit(" tokens")

    return (
        keys.join(standard, on=["provider", "model", _DATE], how="left")
        .join(variant, on=_KEY, how="left")
        .join(fallback, on=["provider", _VARIANT], how="left")
        .join(discount, on=["provider", _DATE], how="left")
        .with_columns(
            *((pl.when(has_variant).then(pl.col(f"{c}__v")).otherwise(pl.col(c)) * scale).alias(c) for c in _ALL_RATES),
            *(pl.when(has_variant).then(pl.col(f"{c}__v")).otherwise(pl.col(c)).alias(c) for c in _THRESHOLDS),
            pl.concat_str(base_source, variant_label, discount_label).alias(_SOURCES[0]),
            *(
                pl.concat_str(base_source, variant_label, tier_label(tier_threshold(t)), discount_label).alias(_SOURCES[t])
                for t in TIERS
            ),
        )
        .select(*keys.collect_schema().names(), *_ALL_RATES, *_THRESHOLDS, *_SOURCES)
    )


def mean_per_request(total: pl.Expr) -> pl.Expr:
    """Tokens per request; NULL for a row with no request count (compares false with every threshold)."""
    requests = pl.col("request_count").fill_null(1)
    return pl.when(requests > 0).then(total / requests)


def tier_level() -> pl.Expr:
    """0 for the base rates, else the highest long-context tier whose threshold the request's input exceeds.

    Input is the whole prompt: uncached + cache read + cache write, as genai-prices counts it. A row that
    stands for several requests (`request_count` > 1, aggregate sources) is judged by its mean per request,
    since the tier is decided per request. An aggregate that reports no request count (0, e.g. Anthropic's
    usage report) cannot be judged per request and gets the base rates.
    """
    total = sum(pl.col(c).fill_null(0) for c in ("input_tokens", "cache_read_tokens", "cache_write_tokens"))
    per_request = mean_per_request(total)
    level = pl.lit(0, dtype=pl.Int8)
    for t in TIERS:  # ascending thresholds: a later tier overrides an earlier one
        th = pl.col(tier_threshold(t))
        level = pl.when(th.is_not_null() & (per_request > th)).then(pl.lit(t, dtype=pl.Int8)).otherwise(level)
    return level


def cost_usd() -> pl.Expr:
    """USD for an event's tokens at its row's rates; null when no row is in force.

    input_tokens is uncached input only, so the four token counts are disjoint and each is billed once at its
    own rate; of the cache writes, the 1-hour ones (`cache_write_1h_tokens`, a subset) take the 1-hour rate and
    the rest the 5-minute one, as genai-prices' `cache_write_1h_tokens` does. Rates follow genai-prices: no
    cache rate -> the input rate, no 1-hour write rate -> twice the input rate (the table already stores them
    so, this repeats it for hand-made tables); no input or output rate -> that side is not charged. Missing
    token counts count as zero.
    """
    def tokens(name: str) -> pl.Expr:
        return pl.col(name).fill_null(0).cast(pl.Float64)

    input_rate = pl.col("input_usd_per_mtok")
    writes = tokens("cache_write_tokens")
    writes_1h = pl.min_horizontal(tokens("cache_write_1h_tokens"), writes)
    total = (
        tokens("input_tokens") * input_rate.fill_null(0)
        + tokens("cache_read_tokens") * pl.coalesce("cache_read_usd_per_mtok", input_rate, pl.lit(0.0))
        + (writes - writes_1h) * pl.coalesce("cache_write_usd_per_mtok", input_rate, pl.lit(0.0))
        + writes_1h * pl.coalesce("cache_write_1h_usd_per_mtok", input_rate * CACHE_WRITE_1H_INPUT_MULTIPLE, pl.lit(0.0))
        + tokens("output_tokens") * pl.col("output_usd_per_mtok").fill_null(0)
    ) / 1_000_000
    return pl.when(pl.col("price_source").is_not_null()).then(total).otherwise(None)


def pricing_version(
    table_version: str, discounts: Sequence[ProviderDiscount] = (), aliases: Sequence[ModelAlias] = ()
) -> str:
    """What usage was priced with: the table's content hash plus discounts, aliases and these rules.

    Stored per loaded unit (ingest_log.price_version); when it changes, already-loaded usage is repriced.
    """
    payload = {
        "table": table_version,
        "discounts": [d.model_dump(mode="json") for d in discounts],
        "aliases": [a.model_dump(mode="json") for a in aliases],
        "fallbacks": sorted([*k, v] for k, v in VARIANT_FALLBACKS.items()),
        "rules": PRICING_RULES,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
