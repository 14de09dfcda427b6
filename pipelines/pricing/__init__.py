"""Pricing: the dated price table (genai-prices + overrides), variants, discounts, aliases, and the join."""

from pipelines.pricing.aliases import apply_model_aliases
from pipelines.pricing.coverage import price_coverage
from pipelines.pricing.price import cost_usd, price_usage, prices_in_force, pricing_version
from pipelines.pricing.price_table import build_price_table, genai_prices_source, price_table_version

__all__ = [
    "apply_model_aliases",
    "build_price_table",
    "cost_usd",
    "genai_prices_source",
    "price_coverage",
    "price_table_version",
    "price_usage",
    "prices_in_force",
    "pricing_version",
]
