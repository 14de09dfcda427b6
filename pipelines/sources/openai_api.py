"""OpenAI organization Costs and Usage APIs into cost_lines and usage_events, one UTC day per unit.

Costs (`/v1/organization/costs`, grouped by line item and project) is what OpenAI invoices: one cost line per
(day, line item, project). Usage (`/v1/organization/usage/completions`, grouped by model, project, batch,
API key and service tier) is the token side: one usage_events row per aggregate, with `request_count` =
num_model_requests. Both need an admin key (`sk-admin-...`, made by an organization owner).

Traps handled here: `amount.value` arrives as a number or a string; currency is lowercase ("usd");
`input_tokens` INCLUDES `input_cached_tokens` (usage_events.input_tokens is uncached input only, so the cached
part is subtracted once, here); days without spend come back as buckets with `results: []`.
"""

from __future__ import annotations

from datetime import datetime, timezone

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

DEFAULT_BASE_URL = "https://api.openai.com"
DEFAULT_KEY_ENV = "OPENAI_ADMIN_KEY"
COSTS_PATH = "/v1/organization/costs"
USAGE_PATH = "/v1/organization/usage/completions"
COSTS_GROUP_BY = ["line_item", "project_id"]
USAGE_GROUP_BY = ["model", "project_id", "batch", "api_key_id", "service_tier"]

COST_FIELDS = {"value": "amount.value", "currency": "amount.currency", "line_item": "line_item",
               "project_id": "project_id"}
USAGE_FIELDS = {
    "input_tokens": "input_tokens",
    "input_cached_tokens": "input_cached_tokens",
    "output_tokens": "output_tokens",
    "num_model_requests": "num_model_requests",
    "model": "model",
    "project_id": "project_id",
    "user_id": "user_id",
    "batch": "batch",
    "service_tier": "service_tier",
}
USAGE_TOKEN_FIELDS = ["input_tokens", "input_cached_tokens", "output_tokens", "num_model_requests"]
# "gpt-4o-2024-08-06, input", "..., cached input", "..., output": a model, a comma, then the token kind.
_LINE_ITEM = r"^(.+?),\s*((?:cached\s+)?(?:input|output)\b.*)$"


def _params(day: Day, group_by: list[str]) -> dict:
    return {"start_time": int(day.start.timestamp()), "end_time": int(day.end.timestamp()), "bucket_width": "1d",
            "group_by": group_by}


def _bucket_start(bucket: dict) -> datetime | None:
    start = bucket.get("start_time")
    if isinstance(start, bool) or not isinstance(start, (int, float)):
        return None
    return datetime.fromtimestamp(start, timezone.utc)


def costs_frame(pages: list[dict], day: Day, source: SourceConfig) -> pl.DataFrame:
    raw = flatten(pages, day, _bucket_start, COST_FIELDS)
    value = pl.col("value").cast(pl.Float64, strict=False)
    refuse_first(raw, pl.col("value").is_null(), day, "missing cost amount", "value", "amount.value")
    refuse_first(raw, value.is_null() | ~value.is_finite(), day, "not a number: {value}", "value", "amount.value")
    currency = pl.col("currency").str.strip_chars().str.to_uppercase()
    refuse_first(raw, pl.col("currency").is_null() | ~currency.is_in(sorted(ISO_4217)), day,
                 "unknown currency {value} (expected an ISO 4217 code)", "currency", "amount.currency")
    parsed = raw.with_columns(
        pl.col("line_item").str.extract(_LINE_ITEM, 1).str.strip_chars().alias("__model"),
        pl.col("line_item").str.extract(_LINE_ITEM, 2).str.to_lowercase().alias("__kind"),
    )
    return api_cost_lines(
        parsed, day, source, OPENAI, line_id_keys=["line_item", "project_id"], sub_account="project_id",
        description="line_item", model=pl.col("__model"), token_type=token_type(pl.col("__kind")), cost=value,
        currency=currency, cost_field="amount.value",
    )


OPENAI = Biller(provider_id="openai", name="OpenAI", service="OpenAI API")


def token_type(kind: pl.Expr) -> pl.Expr:
    """The token kind after the line item's comma: cached input is a cache read; audio input is input."""
    return (
        pl.when(kind.str.starts_with("cached")).then(pl.lit("cache_read"))
        .when(kind.str.starts_with("input")).then(pl.lit("input"))
        .when(kind.str.starts_with("output")).then(pl.lit("output"))
    )


def usage_frame(pages: list[dict], day: Day, source: SourceConfig) -> pl.DataFrame:
    raw = flatten(pages, day, _bucket_start, USAGE_FIELDS)
    check_tokens(raw, day, USAGE_TOKEN_FIELDS)
    refuse_first(raw, tokens("input_cached_tokens") > tokens("input_tokens"), day,
                 "more cached input tokens than input tokens ({value}); OpenAI's input includes the cached part",
                 "input_cached_tokens")
    refuse_first(raw, pl.col("batch").is_not_null() & ~pl.col("batch").is_in(["true", "false"]), day,
                 "not true or false: {value}", "batch")
    out = raw.with_columns(
        pl.col(BUCKET_START).alias("event_time"),
        pl.lit("openai").alias("provider"),
        pl.col("model").alias("raw_model"),
        normalize_model(pl.lit("openai"), pl.col("model")).alias("model"),
        pl.lit(UNATTRIBUTED).alias("task"),
        pl.col("project_id").alias("project"),
        tokens("num_model_requests").alias("request_count"),
        (tokens("input_tokens") - tokens("input_cached_tokens")).alias("input_tokens"),
        tokens("input_cached_tokens").alias("cache_read_tokens"),
        pl.lit(0, pl.Int64).alias("cache_write_tokens"),
        tokens("output_tokens").alias("output_tokens"),
        pl.lit(0, pl.Int64).alias("reasoning_tokens"),
        (pl.col("batch") == "true").fill_null(False).alias("is_batch"),
        pl.lit("ok").alias("status"),
        pl.lit(source.name).alias("x_source"),
        pl.lit(day.location).alias("x_source_file"),
    )
    return conform(out, USAGE_EVENTS)


OPENAI_API = ApiProvider(base_url=DEFAULT_BASE_URL, key_env=DEFAULT_KEY_ENV,
                         headers=lambda key: {"Authorization": f"Bearer {key}"}, params=_params)
SPECS = [
    api_spec("openai_costs", "cost_lines", OPENAI_API, Endpoint(COSTS_PATH, COSTS_GROUP_BY, costs_frame),
             "the OpenAI organization Costs API (what OpenAI invoices), day by day, paged, with retries"),
    api_spec("openai_usage", "usage_events", OPENAI_API, Endpoint(USAGE_PATH, USAGE_GROUP_BY, usage_frame),
             "the OpenAI organization Usage API (daily buckets per model, project, key, batch, service tier)"),
]
