"""Provider and model id normalization, so logged ids join the price table.

Contract: `normalize_provider(raw)` maps a logged provider name to a genai-prices provider id
(openai, anthropic, aws, azure, google, ...); `normalize_model(provider, raw_model)` maps a logged model id to
the id the price table uses for that provider. Both take and return Polars expressions, so they run vectorized.

Why a matcher and not a fixed alias list: genai-prices recognizes a model by match rules (prefixes, regexes,
`contains`), not by a finite list of names, so dated snapshots (`claude-3-5-sonnet-20241022`), Bedrock
inference profiles (`us.anthropic...`) and compact dates (`gpt-5.2-20251211`) can only be resolved by running
its matcher. `normalize_model` cleans ids with plain string expressions, then runs the library's matcher once
per DISTINCT (provider, model) pair (cached for the process) and maps every row with `replace_strict`: the
Python work grows with the number of distinct ids, never with the number of events.

Bedrock region prefixes are kept when the matcher knows them: genai-prices prices `global.` profiles and
regional ones (`us.`, `eu.`, `apac.`, plain ids) differently for newer models (regional is 10% dearer), so
`us.anthropic.claude-sonnet-4-20250514-v1:0` becomes `regional.anthropic.claude-sonnet-4-20250514-v1:0`, the id
genai-prices gives that price. The prefix is stripped only as a fallback when nothing matches with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:  # genai_prices loads its price data on first use (~0.6 s); keep importing this module cheap
    from genai_prices.types import ModelInfo

# Logged provider names (OpenTelemetry gen_ai.provider.name / gen_ai.system, LiteLLM custom_llm_provider,
# FOCUS and config spellings) -> genai-prices provider id. Names already equal to an id pass through.
PROVIDER_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ["aws.bedrock", "bedrock", "amazon-bedrock", "amazon_bedrock", "amazon bedrock", "aws_bedrock",
         "bedrock_converse", "amazon", "aws bedrock"],
        "aws",
    ),
    **dict.fromkeys(
        ["azure.ai.openai", "azure_openai", "azure-openai", "azure openai", "azure.ai.inference", "azure_ai",
         "azure_text", "microsoft"],
        "azure",
    ),
    **dict.fromkeys(
        ["gcp.vertex_ai", "gcp.gemini", "gcp.gen_ai", "vertex_ai", "vertex-ai", "vertexai", "vertex_ai_beta",
         "vertex", "gemini", "google_genai", "google-genai", "google.genai", "gcp", "google cloud"],
        "google",
    ),
    **dict.fromkeys(["openai", "text-completion-openai", "text_completion_openai", "openai.com"], "openai"),
    **dict.fromkeys(["anthropic", "anthropic.com"], "anthropic"),
    **dict.fromkeys(["mistral_ai", "mistralai", "mistral-ai"], "mistral"),
    **dict.fromkeys(["xai", "x_ai", "x.ai"], "x-ai"),
    **dict.fromkeys(["together_ai", "together-ai", "togetherai"], "together"),
    **dict.fromkeys(["fireworks_ai", "fireworks-ai", "fireworksai"], "fireworks"),
    **dict.fromkeys(["cohere_chat"], "cohere"),
    **dict.fromkeys(["moonshot", "moonshot_ai"], "moonshotai"),
}

# Bedrock cross-region inference profile prefixes; only stripped when the id does not match with them.
_BEDROCK_REGION_PREFIX = re.compile(r"^(?:us|eu|apac|global|jp|au|ca|us-gov|in)\.")
# LiteLLM Bedrock routes: `bedrock/converse/<model>`, `bedrock/invoke/<model>`.
_BEDROCK_ROUTE_PREFIX = re.compile(r"^(?:converse|invoke|converse_like)/")


def normalize_provider(raw: pl.Expr) -> pl.Expr:
    # Cleaned on the batch's distinct names (a handful), not on every event.
    return raw.map_batches(_providers_batch, return_dtype=pl.String, is_elementwise=True)


def _clean_providers(raw: pl.Series) -> pl.Series:
    return raw.str.strip_chars().str.to_lowercase().replace(PROVIDER_ALIASES)


def _providers_batch(raw: pl.Series) -> pl.Series:
    return map_distinct(raw.cast(pl.String), _clean_providers)


def distinct_codes(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(code per row, distinct values): `distinct.gather(code)` gives `values` back; null is the last distinct.

    A string column of a million rows with few distinct values is coded in one hash pass (an Enum cast), so
    work done on the distinct values is mapped back with a gather instead of a string join.
    """
    distinct = values.unique().drop_nulls()
    codes = values.cast(pl.Enum(distinct)).to_physical().cast(pl.UInt64).fill_null(distinct.len())
    return codes, distinct.extend_constant(None, 1)


def map_distinct(values: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`fn` (elementwise, over strings) run once per distinct value, null included, and mapped back to every row."""
    codes, distinct = distinct_codes(values)
    return fn(distinct).gather(codes).alias(values.name)


def normalize_model(provider: pl.Expr, raw_model: pl.Expr) -> pl.Expr:
    """The price table's model id for each row; ids the library does not know come back cleaned (lowercase).

    `provider` may be raw or already normalized (normalizing is idempotent). Unknown providers or models are
    kept as cleaned strings, so they join no price row and stay unpriced rather than being guessed.
    """
    # The model goes first so the result is named like `raw_model` (a struct takes its first field's name).
    # Cleaning and matching run on the batch's distinct (provider, model) pairs: string work per event is
    # one key per row and one lookup, so 10 million events cost about a second, not the cleaning of each.
    return pl.struct(raw_model, provider.alias("__provider")).map_batches(
        _canonical_batch, return_dtype=pl.String, is_elementwise=True
    )


def clean_model_id(raw_model: pl.Expr) -> pl.Expr:
    """String clean-up that needs no price data: case, whitespace, Bedrock ARNs, Vertex resource paths."""
    m = raw_model.str.strip_chars().str.to_lowercase()
    # arn:aws:bedrock:<region>:<account>:foundation-model/<id> and .../inference-profile/<profile id>
    m = (
        pl.when(m.str.starts_with("arn:") & m.str.contains("/", literal=True))
        .then(m.str.extract(r"/([^/]+)$", 1))
        .otherwise(m)
    )
    # Vertex resource names: projects/p/locations/l/publishers/google/models/gemini-1.5-pro
    return m.str.replace(r"^.*/models/", "")


@dataclass(frozen=True)
class CatalogModel:
    """A model a provider prices: its own, or one it borrows through genai-prices' provider fallback."""

    provider: str
    model: str
    info: ModelInfo
    source_provider: str


@cache
def price_catalog() -> tuple[CatalogModel, ...]:
    """Every (provider, model id) genai-prices can price, with fallbacks spelled out; ids lowercased.

    Azure falls back to OpenAI's and Anthropic's models, Google to Anthropic's: the library matches a
    provider's own models first, then each fallback provider's in order. Because pricing is a join on
    (provider, model), a borrowed model gets its own row under the borrowing provider (unless the provider
    has its own model of that id, which wins).
    """
    from genai_prices.data_snapshot import get_snapshot

    providers = get_snapshot().providers
    by_id = {p.id: p for p in providers}
    out: list[CatalogModel] = []
    for p in providers:
        seen: set[str] = set()
        sources = [(p.id, p.models)] + [
            (fid, by_id[fid].models) for fid in p.fallback_model_providers or [] if fid in by_id
        ]
        for source_id, models in sources:
            for m in models:
                if m.id.lower() not in seen:
                    seen.add(m.id.lower())
                    out.append(CatalogModel(p.id, m.id.lower(), m, source_id))
    return tuple(out)


@cache
def _catalog_ids() -> frozenset[tuple[str, str]]:
    return frozenset((c.provider, c.model) for c in price_catalog())


@cache
def canonical_model(provider: str | None, model: str | None) -> str | None:
    """One distinct (normalized provider, cleaned model) -> the price table's id. Cached: called per distinct id.

    Tried in order, first hit wins: the id as logged, then without a LiteLLM `provider/` prefix (only when the
    prefix names the row's own provider, because some real ids contain one: Perplexity's `perplexity/sonar`,
    OpenRouter's `anthropic/claude-3.5-sonnet`), then without a Bedrock region prefix. For each, the library's
    matcher decides (so the result is the model `calc_price` would use), and an exact table id is accepted
    when the matcher finds nothing (some ids, like aws `regional.*`, are not accepted by their own rules).
    Unknown ids come back cleaned, so they join no price row.
    """
    if provider is None or model is None:
        return model
    from genai_prices.data_snapshot import get_snapshot

    snapshot = get_snapshot()
    candidates = [model]
    head, slash, rest = model.partition("/")
    if slash and rest and PROVIDER_ALIASES.get(head, head) == provider:
        candidates.append(_BEDROCK_ROUTE_PREFIX.sub("", rest) if provider == "aws" else rest)
    prov = next((p for p in snapshot.providers if p.id == provider), None)
    if prov is None:
        return candidates[-1]
    for candidate in candidates:
        if found := prov.find_model(candidate, all_providers=snapshot.providers):
            return found.id.lower()
        if (provider, candidate) in _catalog_ids():
            return candidate
    stripped = _BEDROCK_REGION_PREFIX.sub("", candidates[-1])
    if stripped != candidates[-1] and (found := prov.find_model(stripped, all_providers=snapshot.providers)):
        return found.id.lower()
    return candidates[-1]


def _canonical_batch(pairs: pl.Series) -> pl.Series:
    model, provider = pairs.struct.unnest().to_series(0), pairs.struct.field("__provider")
    model_codes, models = distinct_codes(model.cast(pl.String))
    provider_codes, providers = distinct_codes(provider.cast(pl.String))
    width = models.len()
    pair = provider_codes * width + model_codes  # one integer per (provider, model): exact, no string concat
    distinct = pair.unique()
    cleaned = pl.DataFrame(
        {"provider": _clean_providers(providers.gather(distinct // width)), "model": models.gather(distinct % width)}
    ).with_columns(clean_model_id(pl.col("model")))
    mapped = pl.Series([canonical_model(p, m) for p, m in zip(cleaned["provider"], cleaned["model"])], dtype=pl.String)
    if providers.len() * width <= _LOOKUP_LIMIT:  # a table indexed by the pair: one gather per row
        lookup = pl.repeat(None, providers.len() * width, dtype=pl.String, eager=True).scatter(distinct, mapped)
        return lookup.gather(pair).alias(model.name)
    return pair.replace_strict(distinct, mapped, return_dtype=pl.String).alias(model.name)


_LOOKUP_LIMIT = 1 << 22
