"""Pricing: the dated price table (genai-prices + overrides) and the vectorized join that prices usage."""

from pipelines.pricing.price import cost_usd, price_usage, prices_in_force
from pipelines.pricing.price_table import build_price_table, genai_prices_source, price_table_version

__all__ = [
    "build_price_table",
    "cost_usd",
    "genai_prices_source",
    "price_table_version",
    "price_usage",
    "prices_in_force",
]
