"""Anthropic Admin API cost and usage reports into cost_lines and usage_events, one UTC day per unit.

Cost report (`/v1/organizations/cost_report`, grouped by description and workspace): one cost line per
(day, description, workspace). `amount` is a decimal STRING in the currency's lowest unit (cents for USD:
"123.45" is $1.2345), so it is parsed as a Decimal and divided exactly, never through a float first.

Usage report (`/v1/organizations/usage_report/messages`, grouped by model, workspace, API key and service
tier): one usage_events row per aggregate. Anthropic's input EXCLUDES cache reads and writes, which is already
how usage_events counts, so `input_tokens` = uncached_input_tokens and cache writes are the 5-minute plus the
1-hour cache creation counts. The report has NO request count: `request_count` is 0 on these rows (an
aggregated row without a request count), never a made-up 1; request-based figures count them as no requests
and token and cost figures count them in full.

Both need an admin key (`sk-ant-admin...`), sent as `x-api-key` with `anthropic-version: 2023-06-01`.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from pipelines.config import SourceConfig
from pipelines.models import normalize_model
from pipelines.schemas import UNATTRIBUTED, USAGE_EVENTS, conform
from pipelines.sources.api_days import (
    ApiProvider,
    Biller,
    Endpoint,
    api_spec,
    api_cost_lines,
    BUCKET_START,
    Day,
    check_tokens,
    flatten,
    refuse_first,
    tokens,
)
from pipelines.sources.common import ISO_4217

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_KEY_ENV = "ANTHROPIC_ADMIN_KEY"
API_VERSION = "2023-06-01"
COSTS_PATH = "/v1/organizations/cost_report"
USAGE_PATH = "/v1/organizations/usage_report/messages"
COSTS_GROUP_BY = ["description", "workspace_id"]
USAGE_GROUP_BY = ["model", "workspace_id", "api_key_id", "service_tier"]

COST_KEYS = ["description", "workspace_id", "model", "token_type", "cost_type", "service_tier", "context_window",
             "inference_geo"]
COST_FIELDS = {"amount": "amount", "currency": "currency", **{k: k for k in COST_KEYS}}
USAGE_FIELDS = {
    "uncached_input_tokens": "uncached_input_tokens",
    "cache_read_input_tokens": "cache_read_input_tokens",
    "cache_5m": "cache_creation.ephemeral_5m_input_tokens",
    "cache_1h": "cache_creation.ephemeral_1h_input_tokens",
    "output_tokens": "output_tokens",
    "model": "model",
    "workspace_id": "workspace_id",
    "service_tier": "service_tier",
}
USAGE_TOKEN_FIELDS = ["uncached_input_tokens", "cache_read_input_tokens", "cache_5m", "cache_1h", "output_tokens"]
# The report's token_type values -> cost_lines.x_token_type
TOKEN_TYPES = {
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write",
}
# "Lowest currency unit" per ISO 4217 minor units: most currencies have 2 decimals, these 0 or 3.
ZERO_DECIMAL = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
                "XAF", "XOF", "XPF"]
THREE_DECIMAL = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _params(day: Day, group_by: list[str]) -> dict:
    return {"starting_at": _rfc3339(day.start), "ending_at": _rfc3339(day.end), "bucket_width": "1d",
            "group_by[]": group_by}


def _bucket_start(bucket: dict) -> datetime | None:
    start = bucket.get("starting_at")
    if not isinstance(start, str):
        return None
    try:
        return datetime.fromisoformat(start.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def minor_units_divisor(currency: pl.Expr) -> pl.Expr:
    """How many lowest units make one unit of the currency, as an exact decimal."""
    return (
        pl.when(currency.is_in(ZERO_DECIMAL)).then(1)
        .when(currency.is_in(THREE_DECIMAL)).then(1000)
        .otherwise(100)
        .cast(pl.Decimal(38, 0))
    )


def amount_in_currency(amount: pl.Expr, currency: pl.Expr) -> pl.Expr:
    """'123.45' cents -> 1.2345: decimal text divided exactly, then stored as the warehouse's DOUBLE."""
    return (amount.cast(pl.Decimal(38, 12), strict=False) / minor_units_divisor(currency)).cast(pl.Float64)


def costs_frame(pages: list[dict], day: Day, source: SourceConfig) -> pl.DataFrame:
    raw = flatten(pages, day, _bucket_start, COST_FIELDS)
    refuse_first(raw, pl.col("amount").is_null(), day, "missing cost amount", "amount")
    refuse_first(raw, pl.col("amount").cast(pl.Decimal(38, 12), strict=False).is_null(), day,
                 "not a decimal amount: {value}", "amount")
    currency = pl.col("currency").str.strip_chars().str.to_uppercase()
    refuse_first(raw, pl.col("currency").is_null() | ~currency.is_in(sorted(ISO_4217)), day,
                 "unknown currency {value} (expected an ISO 4217 code)", "currency")
    cost = amount_in_currency(pl.col("amount"), currency)
    return api_cost_lines(
        raw, day, source, ANTHROPIC, line_id_keys=COST_KEYS, sub_account="workspace_id", description="description",
        model=pl.col("model"), token_type=token_type(pl.col("token_type")), cost=cost, currency=currency,
    )


ANTHROPIC = Biller(provider_id="anthropic", name="Anthropic", service="Claude API")


def token_type(raw: pl.Expr) -> pl.Expr:
    """Known token types mapped; any other cache_creation.* is a cache write; anything else stays NULL."""
    known = raw.replace_strict(TOKEN_TYPES, default=None, return_dtype=pl.String)
    return pl.when(known.is_not_null()).then(known).when(raw.str.starts_with("cache_creation")).then(
        pl.lit("cache_write"))


def usage_frame(pages: list[dict], day: Day, source: SourceConfig) -> pl.DataFrame:
    raw = flatten(pages, day, _bucket_start, USAGE_FIELDS)
    check_tokens(raw, day, USAGE_TOKEN_FIELDS)
    tier = pl.col("service_tier").str.strip_chars().str.to_lowercase()
    out = raw.with_columns(
        pl.col(BUCKET_START).alias("event_time"),
        pl.lit("anthropic").alias("provider"),
        pl.col("model").alias("raw_model"),
        normalize_model(pl.lit("anthropic"), pl.col("model")).alias("model"),
        pl.lit(UNATTRIBUTED).alias("task"),
        pl.col("workspace_id").alias("project"),
        pl.lit(0, pl.Int64).alias("request_count"),  # the report has none; see the module docstring
        tokens("uncached_input_tokens").alias("input_tokens"),
        tokens("cache_read_input_tokens").alias("cache_read_tokens"),
        (tokens("cache_5m") + tokens("cache_1h")).alias("cache_write_tokens"),
        tokens("cache_1h").alias("cache_write_1h_tokens"),  # priced at its own rate (migration 0030)
        tokens("output_tokens").alias("output_tokens"),
        pl.lit(0, pl.Int64).alias("reasoning_tokens"),
        (tier == "batch").fill_null(False).alias("is_batch"),
        tier.alias("service_tier"),
        pl.lit("ok").alias("status"),
        pl.lit(source.name).alias("x_source"),
        pl.lit(day.location).alias("x_source_file"),
    )
    return conform(out, USAGE_EVENTS)


ANTHROPIC_API = ApiProvider(base_url=DEFAULT_BASE_URL, key_env=DEFAULT_KEY_ENV,
                            headers=lambda key: {"x-api-key": key, "anthropic-version": API_VERSION}, params=_params)
SPECS = [
    api_spec("anthropic_costs", "cost_lines", ANTHROPIC_API, Endpoint(COSTS_PATH, COSTS_GROUP_BY, costs_frame),
             "the Anthropic Admin API cost report, day by day, paged, with retries"),
    api_spec("anthropic_usage", "usage_events", ANTHROPIC_API, Endpoint(USAGE_PATH, USAGE_GROUP_BY, usage_frame),
             "the Anthropic Admin API usage report (daily buckets per model, workspace, key, service tier)"),
]
