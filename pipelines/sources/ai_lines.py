"""Which billed lines are AI spend, and for token lines which model and token type, from SKU and meter names.

Cloud bills rarely say "model X, input tokens" in a column of their own: Azure writes it into the meter name
(`gpt 4o 0513 Input global Tokens`, `gpt 4o 1120 cached Inp glbl`), Google into the SKU description
(`Gemini 2.5 Flash GA Text Input - Predictions`), AWS into the usage type (`USE1-...-input-tokens`,
`BoxUsage:p5.48xlarge`). These functions read those names with vectorized string expressions over a frame in
cost_lines columns, so every cost reader (FOCUS, Azure EA, CUR) classifies lines the same way.

Categories (`x_ai_category`), first match wins:
  seat                    a per-user plan of an AI tool: an AI tool's name (Copilot, ChatGPT, Claude Pro/Max/Team,
                          Cursor, ...) with a seat, license, subscription or plan word, or a per-user unit
                          (migration 0036; person_monthly knows these vendor-months are on the bill)
  provisioned_throughput  reserved model capacity (Azure PTU / "Provisioned Managed", Vertex or Bedrock
                          provisioned throughput, Bedrock model units) on an AI service
  model_usage             token lines: a model or token type was recognized, or the unit counts tokens
  ai_compute              accelerator instances (AWS p/g/trn/inf/dl families, Azure N-series, GPU/TPU SKUs)
                          and SageMaker
  ai_service              anything else on an AI service (FOCUS "AI and Machine Learning", Cognitive Services,
                          Vertex AI, Bedrock, ...)
  null                    not AI

Models are named only when the price table knows the result: a dated Azure meter (`gpt 4o 0513`) is resolved to
the one snapshot id genai-prices lists for that month and day (`gpt-4o-2024-05-13`); when no listed id, or more
than one, fits, `x_model` stays null rather than borrowing another snapshot's price.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from pipelines.models import normalize_model, price_catalog

MODEL_USAGE = "model_usage"
AI_COMPUTE = "ai_compute"
PROVISIONED = "provisioned_throughput"
AI_SERVICE = "ai_service"
SEAT = "seat"

# Service names (ServiceName, or Azure MeterCategory) that sell AI.
_AZURE_OPENAI_SERVICE = r"openai|cognitive services|foundry models|ai foundry|azure ai services"
_GOOGLE_GENAI_SERVICE = r"vertex ai|gemini api|generative language"
_AI_SERVICE = (
    _AZURE_OPENAI_SERVICE + "|" + _GOOGLE_GENAI_SERVICE
    + r"|bedrock|sagemaker|machine learning|generative ai|artificial intelligence"
)

# Accelerator instances. AWS families by instance type (BoxUsage:p5.48xlarge, ml.g5.xlarge, trn1.32xlarge);
# the leading \b keeps Graviton types like m6g.large out (no boundary between 6 and g).
_AWS_ACCELERATOR = r"\b(?:p[2-6][a-z0-9-]*|g[3-7][a-z0-9]*|gr6[a-z]*|trn[1-3][a-z]*|inf[1-3][a-z]*|dl[12][a-z]*)\.(?:\d*x?large|metal)"
# Azure N-series: Standard_ND96asr_v4, meter names `NC6s v3`, `NC4as T4 v3`, sub-categories `NCasT4 v3 Series`.
_AZURE_ACCELERATOR = r"\bstandard_n[cdv]\d|\bn[cdv]\d+[a-z]*(?: [a-z0-9]+)? v\d\b|\bn[cdv][a-z0-9]* (?:v\d )?series\b"
_AZURE_VM_CONTEXT = r"virtual machine|machine learning|kubernetes|compute|batch"
# GPU and TPU SKUs (Google `Nvidia Tesla A100 GPU running in Americas`, `TPU v5e`, OCI `BM.GPU.H100.8`).
_GPU_SKU = r"\bnvidia\b|\bgpus?\b|\btpus?\b|\b(?:a100|h100|h200|b200|gb200|v100|l40s?|mi300x?)\b"

# Seats: an AI tool sold per user, and a word or unit that says "per user plan". Both are needed: Copilot premium
# requests and Cursor usage are usage, not seats.
_SEAT_TOOL = (r"\bcopilot\b|\bchatgpt\b|\bclaude (?:pro|max|team|enterprise)\b|\bcursor\b|\bcodeium\b|\bwindsurf\b"
              r"|\btabnine\b|\bgemini code assist\b|\bq developer\b")
_SEAT_WORD = (r"\bseats?\b|\blicen[cs]es?\b|\bsubscriptions?\b|\buser ?months?\b|\bper user\b|\bbusiness\b"
              r"|\benterprise\b|\bplus\b|\bteams?\b|\bpro\b|\bmax\b|\bultra\b")
_SEAT_UNIT = r"\buser|\bseat|\blicen"

_PROVISIONED = r"provisioned throughput|provisioned managed|provisionedthroughput|\bptus?\b|\bmodel ?units?\b"

# Words of a meter name that come after the model's name (token type, deployment type, unit).
_AZURE_STOP = [
    "input", "inp", "in", "output", "outp", "out", "cached", "cache", "cchd", "cch", "batch", "bt", "tokens",
    "token", "tkns", "glbl", "global", "gl", "regional", "regnl", "rgnl", "data", "dzone", "dz", "ft",
    "finetune", "fine", "training", "hosting", "hour", "hours", "aud", "audio", "txt", "img", "image", "provisioned",
    "ptu", "ptus", "priority", "developer", "dev", "1k", "1m", "units", "unit", "text",
]
_AZURE_MODEL_START = r"^(?:gpt|o[1-9]|chatgpt|codex|computer use|text embedding|embedding)\b"
_GOOGLE_STOP = [
    "ga", "preview", "text", "input", "output", "cached", "cache", "thinking", "tokens", "token", "predictions",
    "prediction", "long", "short", "batch", "context", "caching", "storage", "character", "characters", "count",
    "priority", "flex", "video", "audio", "for", "with", "on", "in", "-", ":",
]


def _lower(name: str) -> pl.Expr:
    return pl.col(name).fill_null("").str.to_lowercase()


def meter_text() -> pl.Expr:
    """The names that describe what was metered, lowercased, `-` and `_` read as spaces."""
    parts = [_lower(c) for c in ("SkuMeter", "SkuId", "ChargeDescription", "ResourceType")]
    return pl.concat_str(parts, separator=" | ").str.replace_all(r"[-_]", " ")


def service_text() -> pl.Expr:
    return pl.concat_str([_lower(c) for c in ("ServiceName", "ServiceCategory", "ServiceSubcategory")], separator=" | ")


def is_ai_service() -> pl.Expr:
    category = _lower("ServiceCategory") == "ai and machine learning"
    subcategory = _lower("ServiceSubcategory") == "generative ai"
    return category | subcategory | _lower("ServiceName").str.contains(_AI_SERVICE)


def is_accelerator() -> pl.Expr:
    """Accelerator compute, from instance types and SKU names; SageMaker counts whole (it is ML compute)."""
    raw = pl.concat_str([_lower(c) for c in ("SkuMeter", "SkuId", "ChargeDescription", "ResourceType")], separator=" | ")
    azure = meter_text().str.contains(_AZURE_ACCELERATOR) & pl.concat_str(
        [service_text(), meter_text()]
    ).str.contains(_AZURE_VM_CONTEXT)
    sagemaker = _lower("ServiceName").str.contains("sagemaker")
    return raw.str.contains(_AWS_ACCELERATOR) | azure | meter_text().str.contains(_GPU_SKU) | sagemaker


def is_seat() -> pl.Expr:
    """A seat of an AI tool: the tool's name in the service or meter names, with a plan word or a per-user unit."""
    names = pl.concat_str([service_text(), meter_text()], separator=" | ")
    units = pl.concat_str([_lower("ConsumedUnit"), _lower("PricingUnit")], separator=" ")
    return names.str.contains(_SEAT_TOOL) & (names.str.contains(_SEAT_WORD) | units.str.contains(_SEAT_UNIT))


def is_provisioned() -> pl.Expr:
    text = pl.concat_str([meter_text(), _lower("ServiceName")])
    return is_ai_service() & text.str.contains(_PROVISIONED)


def token_type() -> pl.Expr:
    """input / output / cache_read / cache_write from the meter name; null when the line is not a token line.

    Cache words are tested first: Bedrock writes `cache-read-input-token-count`, Azure `cached Inp`.
    """
    text = meter_text()
    tokenish = (
        text.str.contains(r"\btokens?\b|\btkns\b|\btoken count\b")
        | _lower("ConsumedUnit").str.contains("token")
        | _lower("PricingUnit").str.contains("token")
        | (_azure_family().is_not_null() & is_ai_service())
        | (_google_family().is_not_null() & is_ai_service())
    )
    kind = (
        pl.when(text.str.contains(r"\bcache (?:write|creation)\b|\bcache writes?\b"))
        .then(pl.lit("cache_write"))
        .when(text.str.contains(r"\bcached\b|\bcache read\b|\bcache hit\b|\bcchd?\b"))
        .then(pl.lit("cache_read"))
        .when(text.str.contains(r"\boutp(?:ut)?\b|\bout\b"))
        .then(pl.lit("output"))
        .when(text.str.contains(r"\binp(?:ut)?\b|\bin\b"))
        .then(pl.lit("input"))
    )
    return pl.when(tokenish & ~text.str.contains(r"\bstorage\b")).then(kind)


def _azure_family() -> pl.Expr:
    """`gpt 4o 0513 Input global Tokens` -> `gpt-4o|0513`: the model's words up to the first non-model word,
    then the four-digit snapshot code (MMDD) if any. Null when the meter does not start like a model name."""
    meter = pl.col("SkuMeter").fill_null("").str.to_lowercase().str.replace_all(r"[-_]", " ").str.strip_chars()
    words = meter.str.split(" ").list.eval(
        pl.element().filter((pl.element().is_in(_AZURE_STOP).cum_sum() == 0) & (pl.element() != ""))
    )
    name = words.list.eval(pl.element().filter(~pl.element().str.contains(r"^\d{4}$"))).list.join("-")
    code = words.list.eval(pl.element().filter(pl.element().str.contains(r"^\d{4}$"))).list.first()
    name = name.str.replace(r"^gpt-35", "gpt-3.5")
    return pl.when(meter.str.contains(_AZURE_MODEL_START)).then(pl.concat_str([name, code.fill_null("")], separator="|"))


def _google_family() -> pl.Expr:
    """`Gemini 2.5 Flash GA Text Input - Predictions` -> `gemini-2.5-flash`."""
    text = pl.concat_str([_lower("SkuMeter"), _lower("ChargeDescription")], separator=" ")
    after = text.str.extract(r"\b(gemini .*)$", 1).str.strip_chars().str.split(" ")
    words = after.list.eval(
        pl.element().filter((pl.element().is_in(_GOOGLE_STOP).cum_sum() == 0) & (pl.element() != ""))
    )
    return words.list.join("-")


@cache
def _listed_ids(provider: str) -> frozenset[str]:
    """Every id genai-prices lists for a provider (model ids and the exact ids its match rules name)."""
    out: set[str] = set()

    def walk(clause: object) -> None:
        for attr in ("equals", "starts_with"):
            value = getattr(clause, attr, None)
            if isinstance(value, str):
                out.add(value.lower())
        for attr in ("or_", "and_"):
            for sub in getattr(clause, attr, None) or []:
                walk(sub)

    for c in price_catalog():
        if c.provider == provider:
            out.add(c.model)
            walk(c.info.match)
    return frozenset(out)


@cache
def _known_models(provider: str) -> tuple[str, ...]:
    return tuple(sorted(c.model for c in price_catalog() if c.provider == provider))


@cache
def _azure_raw_id(family_code: str | None) -> str | None:
    """One distinct `family|MMDD` -> the listed snapshot id it names, or None when zero or several fit."""
    if not family_code:
        return None
    family, _, code = family_code.partition("|")
    if not code:
        return family
    listed = _listed_ids("azure")
    candidates = [f"{family}-{year}-{code[:2]}-{code[2:]}" for year in range(2022, 2031)] + [f"{family}-{code}"]
    hits = [c for c in candidates if c in listed]
    return hits[0] if len(hits) == 1 else None


def _map_distinct(batch: pl.Series) -> pl.Series:
    distinct = batch.drop_nulls().unique()
    mapped = pl.Series([_azure_raw_id(v) for v in distinct], dtype=pl.String)
    return batch.replace_strict(distinct, mapped, default=None, return_dtype=pl.String)


def _known(provider: str, model: pl.Expr) -> pl.Expr:
    return pl.when(model.is_in(list(_known_models(provider)))).then(model)


def model_from_meter() -> pl.Expr:
    """The price table's model id for Azure OpenAI and Gemini token meters; null when unsure."""
    azure_raw = _azure_family().map_batches(_map_distinct, return_dtype=pl.String, is_elementwise=True)
    azure = _known("azure", normalize_model(pl.lit("azure"), azure_raw))
    google = _known("google", normalize_model(pl.lit("google"), _google_family()))
    service = _lower("ServiceName")
    microsoft_ai = _lower("ProviderName").str.contains("microsoft|azure") & is_ai_service()
    return (
        pl.when(service.str.contains(_AZURE_OPENAI_SERVICE) | microsoft_ai).then(azure)
        .when(service.str.contains(_GOOGLE_GENAI_SERVICE) | _lower("ProviderName").str.contains("google"))
        .then(google)
    )


def ai_category() -> pl.Expr:
    """Needs x_model and x_token_type already set (see with_ai_columns)."""
    tokens = (
        pl.col("x_model").is_not_null()
        | pl.col("x_token_type").is_not_null()
        | _lower("ConsumedUnit").str.contains("token")
    )
    return (
        pl.when(is_seat() & ~tokens).then(pl.lit(SEAT))
        .when(is_provisioned()).then(pl.lit(PROVISIONED))
        .when(tokens).then(pl.lit(MODEL_USAGE))
        .when(is_accelerator()).then(pl.lit(AI_COMPUTE))
        .when(is_ai_service()).then(pl.lit(AI_SERVICE))
        .otherwise(pl.lit(None, pl.String))
    )


def token_quantity() -> list[pl.Expr]:
    """ConsumedQuantity in tokens on token lines whose unit counts thousands or millions (`1K`, `1M Tokens`)."""
    unit = _lower("ConsumedUnit").str.strip_chars()
    parts = unit.str.extract_groups(r"^(\d+(?:\.\d+)?)?\s*([km])?\s*(?:tokens?)?$")
    factor = parts.struct.field("1").cast(pl.Float64).fill_null(1.0) * (
        pl.when(parts.struct.field("2") == "k").then(1e3).when(parts.struct.field("2") == "m").then(1e6).otherwise(1.0)
    )
    scale = (pl.col("x_ai_category") == MODEL_USAGE).fill_null(False) & unit.str.contains(r"^\d|token") & (
        parts.struct.field("1").is_not_null() | parts.struct.field("2").is_not_null() | unit.str.contains("token")
    ) & (unit != "")
    return [
        pl.when(scale).then(pl.col("ConsumedQuantity") * factor).otherwise(pl.col("ConsumedQuantity")).alias(
            "ConsumedQuantity"
        ),
        pl.when(scale).then(pl.lit("Tokens")).otherwise(pl.col("ConsumedUnit")).alias("ConsumedUnit"),
    ]


def with_ai_columns(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """x_model, x_token_type, x_ai_category, x_is_ai (and token quantities) for a frame in cost_lines columns.

    A model or token type the file states itself wins over what the meter name suggests.
    """
    return (
        frame.with_columns(
            pl.coalesce(pl.col("x_model"), model_from_meter()).alias("x_model"),
            pl.coalesce(pl.col("x_token_type"), token_type()).alias("x_token_type"),
        )
        .with_columns(ai_category().alias("x_ai_category"))
        .with_columns(*token_quantity(), pl.col("x_ai_category").is_not_null().alias("x_is_ai"))
    )
