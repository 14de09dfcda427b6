"""A simple, documented CSV of model usage, for anything that has no reader of its own.

One row per request (or per aggregate of `request_count` requests). Column names match case-insensitively;
other columns are ignored. A UTF-8 BOM and `.csv.gz` are fine.

Required:
- `timestamp`: when the request started; ISO 8601 (`2025-03-01T10:00:00Z`, `+02:00` offsets) or
  `2025-03-01 10:00:00` (taken as UTC) or a bare date.
- `provider`: `openai`, `anthropic`, `aws` (Bedrock), `azure`, `google`, ... (common spellings are mapped).
- `model`: the model id as the provider names it.
- `input_tokens`: UNCACHED input tokens only (do not include cache reads or writes).
- `output_tokens`: output tokens, reasoning included.
Optional (blank means the default):
- `cache_read_tokens`, `cache_write_tokens`, `reasoning_tokens`: counts, default 0.
- `request_count`: requests the row stands for, default 1 (at least 1).
- `task` (default `unattributed`), `team`, `run_id`, `user_id`, `project`, `request_id`, `service_tier`: text.
- `work_item_id`: the work item the request served (a ticket, PR or issue id; docs/evidence.md).
- `is_batch`: true/false, yes/no or 1/0; default false.
- `status`: `ok` or `error` (also `success`/`failure`); default `ok`.
- `outcome`: `success`, `failure` or blank.
- `latency_ms`: request duration in milliseconds, >= 0.

Counts are whole numbers from 0 to 10^13 (`1200` or `1200.0`; not `1,200`, `1.5`, `inf`; pipelines/sources/
bounds.py), timestamps within the load window. Any violation refuses the whole file,
naming the first bad row (1-based, header excluded) and the column.
"""

from __future__ import annotations


import polars as pl

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.models import normalize_model, normalize_provider
from pipelines.schemas import UNATTRIBUTED, USAGE_EVENTS, conform
from pipelines.sources.spec import SourceSpec
from pipelines.sources.bounds import REQUESTS, TOKENS, refuse_bad_values
from pipelines.sources.common import blank_to_null, check, parse_utc, read_bytes, read_csv_text

REQUIRED = ["timestamp", "provider", "model", "input_tokens", "output_tokens"]
COUNTS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "request_count"]
TEXTS = ["task", "team", "run_id", "user_id", "project", "request_id", "service_tier", "work_item_id"]
OPTIONAL = [c for c in COUNTS if c not in REQUIRED] + TEXTS + ["is_batch", "status", "outcome", "latency_ms"]
STATUS = {"ok": "ok", "success": "ok", "error": "error", "failure": "error"}
OUTCOMES = ["success", "failure"]
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def read(path: str, source: SourceConfig, data: bytes | None = None) -> pl.DataFrame:
    frame = _load(path, data)
    _validate(frame, path)
    events = frame.lazy().with_columns(_event_columns()).with_columns(
        pl.lit(source.name).alias("x_source"), pl.lit(path).alias("x_source_file")
    )
    out = conform(events, USAGE_EVENTS).collect()
    refuse_bad_values(out, "usage_events", path, names={"event_time": "timestamp"})
    return out


def _load(path: str, data: bytes | None) -> pl.DataFrame:
    raw = read_bytes(path, data)
    if not raw.removeprefix(b"\xef\xbb\xbf").strip():
        raise SourceError(path, f"empty file: expected a header with {', '.join(REQUIRED)}")
    frame = read_csv_text(path, raw, null_values=None, canonical=_known)
    by_lower = {name.strip().lower(): name for name in frame.columns}
    missing = [c for c in REQUIRED if c not in by_lower]
    if missing:
        raise SourceError(path, f"missing required column(s): {', '.join(missing)}", column=missing[0])
    return frame.select(
        [
            (blank_to_null(pl.col(by_lower[c])) if c in by_lower else pl.lit(None, pl.String)).alias(c)
            for c in REQUIRED + OPTIONAL
        ]
    )


def _known(header: str) -> str | None:
    key = header.strip().lower()
    return key if key in REQUIRED + OPTIONAL else None


def _number(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64, strict=False)


def _validate(frame: pl.DataFrame, path: str) -> None:
    for name in ["timestamp", "provider", "model", "input_tokens", "output_tokens"]:
        check(frame, pl.col(name).is_null(), path, "required value is blank", name)
    check(frame, parse_utc(pl.col("timestamp")).is_null(), path, "not a timestamp: {value}", "timestamp")
    for name in COUNTS:
        value, bound = _number(name), REQUESTS if name == "request_count" else TOKENS
        check(frame, pl.col(name).is_not_null() & value.is_null(), path, "not a number: {value}", name)
        check(frame, bound.bad(value), path, "{value} is not " + bound.expected(), name)
    check(frame, _number("request_count") < 1, path, "request_count must be at least 1: {value}", "request_count")
    latency = _number("latency_ms")
    check(frame, pl.col("latency_ms").is_not_null() & latency.is_null(), path, "not a number: {value}", "latency_ms")
    lower = {c: pl.col(c).str.to_lowercase() for c in ["status", "outcome", "is_batch"]}
    check(frame, lower["status"].is_not_null() & ~lower["status"].is_in(list(STATUS)), path,
          "unknown status {value} (expected ok or error)", "status")
    check(frame, lower["outcome"].is_not_null() & ~lower["outcome"].is_in(OUTCOMES), path,
          "unknown outcome {value} (expected success, failure or blank)", "outcome")
    check(frame, lower["is_batch"].is_not_null() & ~lower["is_batch"].is_in(list(BOOLEANS)), path,
          "not true or false: {value}", "is_batch")


def _count(name: str, default: int = 0) -> pl.Expr:
    return pl.coalesce(_number(name), pl.lit(float(default))).cast(pl.Int64).alias(name)


def _event_columns() -> list[pl.Expr]:
    provider = normalize_provider(pl.col("provider"))
    return [
        parse_utc(pl.col("timestamp")).alias("event_time"),
        provider.alias("provider"),
        normalize_model(provider, pl.col("model")).alias("model"),
        pl.col("model").alias("raw_model"),
        pl.coalesce(pl.col("task"), pl.lit(UNATTRIBUTED)).alias("task"),
        *[_count(c) for c in COUNTS if c != "request_count"],
        _count("request_count", default=1),
        pl.col("is_batch").str.to_lowercase().replace_strict(BOOLEANS, default=False, return_dtype=pl.Boolean)
        .fill_null(False).alias("is_batch"),
        pl.col("status").str.to_lowercase().replace_strict(STATUS, default="ok").fill_null("ok").alias("status"),
        pl.col("outcome").str.to_lowercase().alias("outcome"),
        _number("latency_ms").alias("latency_ms"),
    ]


SPEC = SourceSpec(
    kind="usage_csv",
    table="usage_events",
    summary="a simple documented CSV for anything else",
    doc="docs/sources/usage_logs.md",
    read=read,
)
