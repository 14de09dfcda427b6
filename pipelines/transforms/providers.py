"""The invoice's provider name as the genai-prices id the logs use, so a billed line and a request can meet.

Invoices name who billed (`AWS`, `Amazon Web Services`, `Microsoft`, `Google Cloud`, `OpenAI`, `Anthropic`);
logs name the API they called with genai-prices ids (`aws` for Bedrock, `azure` for Azure OpenAI, `google` for
Vertex and the Gemini API). A model bought through a cloud is billed by the cloud (Claude on Bedrock is `aws`,
whatever PublisherName says), which is also how genai-prices files its price. The service name decides only when
the provider name is missing or unknown (`Amazon Bedrock` with no ProviderName is still `aws`).
"""

from __future__ import annotations

import polars as pl

from pipelines.models import normalize_provider

# First match wins; tested against ProviderName, then ServiceName (both lowercased).
_RULES: list[tuple[str, str]] = [
    (r"\bamazon\b|\baws\b|bedrock|sagemaker", "aws"),
    (r"microsoft|azure|cognitive services|foundry", "azure"),
    (r"google|vertex|gemini", "google"),
    (r"openai", "openai"),
    (r"anthropic", "anthropic"),
]


def _match(column: str) -> pl.Expr:
    text = pl.col(column).fill_null("").str.to_lowercase()
    out = pl.lit(None, pl.String)
    for pattern, provider in reversed(_RULES):
        out = pl.when(text.str.contains(pattern)).then(pl.lit(provider)).otherwise(out)
    return out


def invoice_provider() -> pl.Expr:
    """genai-prices provider id of a cost line, from ProviderName and ServiceName; NULL only when both are."""
    return pl.coalesce(_match("ProviderName"), _match("ServiceName"), normalize_provider(pl.col("ProviderName"))).alias(
        "provider"
    )
