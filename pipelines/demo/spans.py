"""The demo's application traces: one row per GenAI span, then OTLP JSON exactly as the Collector writes it.

Drawing the numbers is a loop over runs with one seeded `random.Random` (the only way to get byte-identical
output without numpy); everything after that, the JSON included, is Polars expressions.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

import polars as pl

from pipelines.demo.catalog import MODELS, TASKS, TEAM_USERS, DemoTask

SPAN_SCHEMA = {
    "day": pl.Date,
    "service": pl.String,
    "trace_id": pl.String,
    "span_id": pl.String,
    "start_ns": pl.Int64,
    "end_ns": pl.Int64,
    "model_key": pl.String,
    "task": pl.String,
    "team": pl.String,
    "user_id": pl.String,
    "is_batch": pl.Boolean,
    "outcome": pl.String,
    "error_type": pl.String,
    "response_id": pl.String,
    "input_tokens": pl.Int64,  # total input including cache, as OTel reports it
    "output_tokens": pl.Int64,
    "cache_read_tokens": pl.Int64,  # null where the model reports no cache attribute
    "cache_write_tokens": pl.Int64,
    "reasoning_tokens": pl.Int64,
}

ERROR_TYPES = (("rate_limit", 0.55, "429 Too Many Requests: rate limit exceeded"),
               ("timeout", 0.30, "Request timed out"),
               ("server_error", 0.10, "500 Internal Server Error"),
               ("context_length_exceeded", 0.05, "400 Bad Request: prompt is too long"))
ERROR_RATE = 0.03
RETRY_RATE = 0.85
UNATTRIBUTED_RATE = 0.03
WEEKEND_FACTOR = 0.35
GROWTH = 0.6  # volume at the end of the window relative to its start, minus one

_INTERACTIVE_HOURS = [1, 1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 11, 12, 12, 12, 11, 10, 8, 6, 4, 3, 2, 0]
_BATCH_HOURS = [8, 8, 8, 7, 6, 5, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 5, 0]
_EPOCH = date(1970, 1, 1)


def _mean_spans(t: DemoTask) -> float:
    return (t.spans[0] + t.spans[1]) / 2 * (1 + ERROR_RATE * RETRY_RATE)


def day_weights(start: date, days: int, rng: random.Random) -> list[float]:
    """Relative volume per day: weekday/weekend shape, slow growth, a little noise."""
    out = []
    for d in range(days):
        day = start + timedelta(days=d)
        w = (1 + GROWTH * d / max(days - 1, 1)) * (WEEKEND_FACTOR if day.weekday() >= 5 else 1.0)
        out.append(w * rng.uniform(0.9, 1.1))
    return out


def _response_id(rng: random.Random, provider: str) -> str:
    if provider in ("openai", "azure.ai.openai"):
        return f"chatcmpl-{rng.getrandbits(120):030x}"
    if provider == "anthropic":
        return f"msg_01{rng.getrandbits(88):022x}"
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def generate_spans(
    seed: int,
    start: date,
    days: int,
    events_target: int,
    cache_models: tuple[set[str], set[str]],
    progress: Callable[[str], None] | None = None,
) -> pl.DataFrame:
    """At least `events_target` spans over `days` days from `start`, sorted by day, service and start time.

    `cache_models` names the model keys that report cache-read and cache-write counts (those with such prices).
    """
    rng = random.Random(seed)
    reads_cache, writes_cache = cache_models
    weights = day_weights(start, days, rng)
    total_w = sum(weights)
    cols: dict[str, list] = {name: [] for name in SPAN_SCHEMA}
    a = {name: cols[name].append for name in cols}  # bound appends: this loop is the hot path
    err_types = [e[0] for e in ERROR_TYPES]
    err_weights = [e[1] for e in ERROR_TYPES]
    emitted = 0
    for d in range(days):
        day = start + timedelta(days=d)
        day_ns = (day - _EPOCH).days * 86_400 * 1_000_000_000
        frac = d / max(days - 1, 1)
        live = [t for t in TASKS if t.starts_at <= frac or (t.starts_at > 0 and d == days - 1)]
        live_w = [t.runs_weight for t in live]
        mean_spans = sum(t.runs_weight * _mean_spans(t) for t in live) / sum(live_w)
        budget = int(events_target * 1.02 * weights[d] / total_w) + 1
        # enough spans so that the window as a whole reaches the target whatever the rounding
        budget = max(budget, int(mean_spans))
        day_spans = 0
        while day_spans < budget:
            t = rng.choices(live, live_w)[0]
            mkey = rng.choices(list(t.models), list(t.models.values()))[0]
            m = MODELS[mkey]
            batch = rng.random() < t.batch_share
            hour = rng.choices(range(24), _BATCH_HOURS if batch else _INTERACTIVE_HOURS)[0]
            now = day_ns + int((hour * 3600 + rng.random() * 3600) * 1e9)
            trace = f"{rng.getrandbits(128):032x}"
            users = TEAM_USERS[t.team]
            user = f"usr_{t.team[:3]}{rng.randrange(users):03d}"
            task = None if rng.random() < UNATTRIBUTED_RATE else t.task
            n = rng.randint(*t.spans)
            base_in = t.input_tokens * rng.lognormvariate(0, 0.35)
            i = 0
            retrying = False
            while i < n:
                inp = int(base_in * (1 + t.context_growth * i) * rng.uniform(0.85, 1.15)) + 50
                failed = rng.random() < ERROR_RATE
                a["day"](day)
                a["service"](t.service)
                a["trace_id"](trace)
                a["span_id"](f"{rng.getrandbits(64):016x}")
                a["model_key"](mkey)
                a["task"](task)
                a["team"](t.team)
                a["user_id"](user)
                a["is_batch"](batch)
                a["input_tokens"](inp)
                a["start_ns"](now)
                if failed:
                    et = rng.choices(err_types, err_weights)[0]
                    latency = rng.uniform(30_000, 60_000) if et == "timeout" else rng.uniform(80, 400)
                    a["error_type"](et)
                    a["response_id"](None)
                    a["output_tokens"](0)
                    a["cache_read_tokens"](0 if mkey in reads_cache else None)
                    a["cache_write_tokens"](0 if mkey in writes_cache else None)
                    a["reasoning_tokens"](0 if m.has_reasoning else None)
                    retry = rng.random() < RETRY_RATE
                    last = i == n - 1 and not retry
                    a["outcome"]("failure" if last else None)
                    if not retry:
                        i += 1
                else:
                    out = int(t.output_tokens * rng.lognormvariate(0, 0.45)) + 5
                    cread = cwrite = 0
                    if t.cache_share and mkey in writes_cache and i == 0 and rng.random() < 0.3:
                        cwrite = int(inp * t.cache_share)
                    elif t.cache_share and mkey in reads_cache and rng.random() < 0.75:
                        cread = int(inp * t.cache_share)
                    latency = 250 + out * m.ms_per_output_token * rng.uniform(0.8, 1.3) + inp * 0.004
                    a["error_type"](None)
                    a["response_id"](_response_id(rng, m.otel_provider))
                    a["output_tokens"](out)
                    a["cache_read_tokens"](cread if mkey in reads_cache else None)
                    a["cache_write_tokens"](cwrite if mkey in writes_cache else None)
                    a["reasoning_tokens"](int(out * rng.uniform(0.5, 0.8)) if m.has_reasoning else None)
                    last = i == n - 1
                    a["outcome"](("success" if rng.random() < t.success_rate else "failure") if last else None)
                    i += 1
                end = now + int(latency * 1e6)
                a["end_ns"](end)
                now = end + int(rng.uniform(20, 1500 if not retrying else 4000) * 1e6)
                retrying = failed
                day_spans += 1
        emitted += day_spans
        if progress and (d % 10 == 9 or d == days - 1):
            progress(f"drew app logs for {d + 1}/{days} days ({emitted:,} spans)")
    frame = pl.DataFrame(cols, schema=SPAN_SCHEMA)
    return frame.sort("day", "service", "start_ns", "span_id")


# --- OTLP JSON -----------------------------------------------------------------------------------------------

def _kv_str(key: str, value: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(f'{{"key":"{key}","value":{{"stringValue":"'), value, pl.lit('"}}')])


def _kv_int(key: str, value: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(f'{{"key":"{key}","value":{{"intValue":"'), value.cast(pl.String),
                          pl.lit('"}}')])


def _kv_bool(key: str, value: pl.Expr) -> pl.Expr:
    text = pl.when(value).then(pl.lit("true")).otherwise(pl.lit("false"))
    return pl.concat_str([pl.lit(f'{{"key":"{key}","value":{{"boolValue":'), text, pl.lit("}}")])


def _model_column(field: str) -> pl.Expr:
    mapping = {k: getattr(m, field) for k, m in MODELS.items()}
    return pl.col("model_key").replace_strict(mapping, return_dtype=pl.String)


def span_attributes() -> pl.Expr:
    """The span's attribute list as JSON text; absent attributes (nulls) are left out, not written as null."""
    failed = pl.col("error_type").is_not_null()
    parts = [
        _kv_str("gen_ai.provider.name", _model_column("otel_provider")),
        _kv_str("gen_ai.operation.name", pl.lit("chat")),
        _kv_str("gen_ai.request.model", _model_column("request_model")),
        _kv_str("gen_ai.response.model", pl.when(~failed).then(_model_column("response_model"))),
        _kv_str("gen_ai.response.id", pl.col("response_id")),
        _kv_int("gen_ai.usage.input_tokens", pl.col("input_tokens")),
        _kv_int("gen_ai.usage.output_tokens", pl.col("output_tokens")),
        _kv_int("gen_ai.usage.cache_read.input_tokens", pl.col("cache_read_tokens")),
        _kv_int("gen_ai.usage.cache_creation.input_tokens", pl.col("cache_write_tokens")),
        _kv_int("gen_ai.usage.reasoning.output_tokens", pl.col("reasoning_tokens")),
        _kv_str("error.type", pl.col("error_type")),
        _kv_str("aispend.task", pl.col("task")),
        _kv_str("aispend.team", pl.col("team")),
        _kv_str("aispend.outcome", pl.col("outcome")),
        _kv_bool("aispend.batch", pl.col("is_batch")),
        _kv_str("user.id", pl.col("user_id")),
        _kv_str("aispend.work_item", pl.col("work_item")),  # pipelines/demo/work.py links runs to work items
    ]
    return pl.concat_list(parts).list.drop_nulls().list.join(",")


def _status() -> pl.Expr:
    message = pl.col("error_type").replace_strict({e[0]: e[2] for e in ERROR_TYPES}, default=None,
                                                   return_dtype=pl.String)
    return (pl.when(pl.col("error_type").is_null()).then(pl.lit('{"code":0}'))
            .otherwise(pl.concat_str([pl.lit('{"code":2,"message":"'), message, pl.lit('"}')])))


def span_json() -> pl.Expr:
    return pl.concat_str([
        pl.lit('{"traceId":"'), pl.col("trace_id"),
        pl.lit('","spanId":"'), pl.col("span_id"),
        pl.lit('","name":"chat '), _model_column("request_model"),
        pl.lit('","kind":3,"startTimeUnixNano":"'), pl.col("start_ns").cast(pl.String),
        pl.lit('","endTimeUnixNano":"'), pl.col("end_ns").cast(pl.String),
        pl.lit('","attributes":['), span_attributes(),
        pl.lit('],"status":'), _status(), pl.lit("}"),
    ])


def _resource_prefix(service: pl.Expr) -> pl.Expr:
    attrs = pl.concat_str([
        _kv_str("service.name", service), pl.lit(","),
        _kv_str("service.version", pl.lit("2.14.0")), pl.lit(","),
        _kv_str("deployment.environment.name", pl.lit("production")), pl.lit(","),
        _kv_str("telemetry.sdk.name", pl.lit("opentelemetry")), pl.lit(","),
        _kv_str("telemetry.sdk.language", pl.lit("python")),
    ])
    return pl.concat_str([pl.lit('{"resourceSpans":[{"resource":{"attributes":['), attrs,
                          pl.lit(']},"scopeSpans":[{"scope":{"name":"aispend-demo"},"spans":[')])


def otlp_lines(spans: pl.LazyFrame, batch_size: int = 500) -> pl.LazyFrame:
    """One OTLP JSON line per batch of up to `batch_size` spans of one service and day, in time order."""
    return (
        spans.with_columns(
            span_json().alias("json"),
            (pl.int_range(pl.len()).over("day", "service") // batch_size).alias("batch"),
        )
        .group_by("day", "service", "batch")
        .agg(pl.col("json").str.join(","), pl.col("start_ns").min().alias("first_ns"))
        .select(
            "day",
            "first_ns",
            "service",
            pl.concat_str([_resource_prefix(pl.col("service")), pl.col("json"), pl.lit("]}]}]}")]).alias("line"),
        )
        .sort("day", "first_ns", "service")
    )
