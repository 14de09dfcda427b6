"""Which price variant a request ran on (batch, service tier), and the discount used when no list price exists.

genai-prices 0.2.3 has explicit batch and service-tier prices for many models (`price_variants`, carried in the
price table as `price_variant` rows). Those rows start on the date genai-prices recorded them (mostly
2026-10-12/14), not when the provider introduced the discount, and some models have none. Where no variant
row is in force, the standard row is scaled by the documented discount below; where there is no documented
discount either, the standard price applies and `price_source` says so, so nothing is silently guessed.

| provider | variant | multiplier | basis |
|---|---|---|---|
| openai | batch | 0.5 | Batch API: 50% off input and output (OpenAI pricing page) |
| anthropic | batch | 0.5 | Message Batches API: 50% off all token prices (Anthropic pricing docs) |
| aws | batch | 0.5 | Bedrock batch inference: 50% of on-demand price for supported models (AWS Bedrock pricing) |
| azure | batch | 0.5 | Azure OpenAI Global Batch: 50% less than Global Standard (Azure OpenAI pricing) |
| google | batch | 0.5 | Gemini API Batch Mode / Vertex AI batch: 50% of the standard price |
| openai | flex | 0.5 | Flex processing is billed at Batch API rates (OpenAI flex processing guide) |

Priority tiers have no single multiplier (OpenAI's priority prices range from about 1.7x to 2x by model, and
Anthropic's Priority Tier is a capacity commitment), so a priority request with no genai-prices priority rate
in force is priced at the standard rate, and its `price_source` says "priority: standard price (no rate
known)". The same holds for any other tier name (`scale`, ...).
"""

from __future__ import annotations

import polars as pl

from pipelines.models import map_distinct
from pipelines.pricing.price_table import BATCH, STANDARD

VARIANT_FALLBACKS: dict[tuple[str, str], float] = {
    ("openai", BATCH): 0.5,
    ("anthropic", BATCH): 0.5,
    ("aws", BATCH): 0.5,
    ("azure", BATCH): 0.5,
    ("google", BATCH): 0.5,
    ("openai", "flex"): 0.5,
}

# Service tier names that mean the standard price (OpenAI `default`/`auto`, Anthropic `standard`, Bedrock
# `on_demand`): a request on them is priced like one with no tier.
STANDARD_TIERS = ("default", "standard", "auto", "on_demand", "on-demand", "")


def event_variant() -> pl.Expr:
    """The price variant an event asks for: 'batch' for batch requests, else its service tier, else standard.

    Batch wins over a service tier (batch APIs have none); Anthropic reports batch work as tier `batch`. The
    tier name is cleaned on its few distinct values, not per event.
    """
    tier = pl.col("service_tier").cast(pl.String).fill_null("").map_batches(
        _tier_variant, return_dtype=pl.String, is_elementwise=True
    )
    return pl.when(pl.col("is_batch").fill_null(False)).then(pl.lit(BATCH)).otherwise(tier)


def _tier_variant(tiers: pl.Series) -> pl.Series:
    return map_distinct(tiers, _clean_tiers)


def _clean_tiers(distinct: pl.Series) -> pl.Series:
    cleaned = distinct.str.strip_chars().str.to_lowercase()
    return pl.select(pl.when(cleaned.is_in(STANDARD_TIERS)).then(pl.lit(STANDARD)).otherwise(cleaned)).to_series()


def fallbacks_frame() -> pl.LazyFrame:
    """VARIANT_FALLBACKS as (provider, variant, multiplier, label) for a join on the few distinct keys."""
    keys = list(VARIANT_FALLBACKS)
    return pl.LazyFrame(
        {
            "provider": [p for p, _ in keys],
            "variant": [v for _, v in keys],
            "multiplier": [VARIANT_FALLBACKS[k] for k in keys],
            "label": [f"; {v} -{(1 - VARIANT_FALLBACKS[(p, v)]) * 100:g}%" for p, v in keys],
        },
        schema={"provider": pl.String, "variant": pl.String, "multiplier": pl.Float64, "label": pl.String},
    )


def explicit_label(variant: pl.Expr) -> pl.Expr:
    """price_source part for a variant priced at genai-prices' own variant rate."""
    return pl.lit("; ") + variant + pl.lit(" price")


def unknown_label(variant: pl.Expr) -> pl.Expr:
    """price_source part for a variant with neither a list price nor a documented discount."""
    return pl.lit("; ") + variant + pl.lit(": standard price (no rate known)")
