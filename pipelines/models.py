"""Provider and model id normalization (placeholder: the pricing work replaces the bodies, not the names).

Contract: `normalize_provider(raw)` maps a logged provider name to a genai-prices provider id
(openai, anthropic, aws, azure, google, ...); `normalize_model(provider, raw_model)` maps a logged model id to
the id the price table uses for that provider. Both take and return Polars expressions, so they run vectorized.
"""

from __future__ import annotations

import polars as pl


def normalize_provider(raw: pl.Expr) -> pl.Expr:
    return raw.str.strip_chars().str.to_lowercase()


def normalize_model(provider: pl.Expr, raw_model: pl.Expr) -> pl.Expr:
    return raw_model.str.strip_chars().str.to_lowercase()
