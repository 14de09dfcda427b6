"""The source files a user has, written for bench/end_to_end.py from N synthetic usage events, one UTC day at a time.

The events are bench/scale.py's `day_events` (bench/usage_pricing.py's mix: 24 logged model ids, an alias,
unknown models, batch, tiers, long context; runs of 4 requests sharing a task and team; 2% errors; an outcome
per run). Each event is written in ONE usage format, chosen by its model id and a hash of its request id:
- Bedrock invocation logs: every `aws.bedrock` event except the ids only LiteLLM spells (about 13.5%);
- LiteLLM spend logs: the ids only LiteLLM spells (`openai/gpt-4.1`, `bedrock/converse/...`, about 5.5%) and
  a quarter of the rest (`LITELLM_SHARE`), about 25% in all;
- OpenTelemetry GenAI spans: everything else, about 61%.
The generator prints the exact split. Bills follow the logs: per day, provider, logged model, region and token
type, the logged tokens at a flat list rate less 5% (scale.py's `LIST_RATES`), AWS's in a CUR 2.0 export, the
other providers' as FOCUS 1.2 files; the self-hosted `acme-llm` is on no bill.

Layout under the bench folder (what `aispend.yaml` there points at):
- `otel/YYYY-MM-DD.jsonl.gz`: OTLP JSON lines as the Collector's file exporter writes them (the shape of
  pipelines/demo/spans.py): a line per batch of up to 500 spans of one service, in time order;
- `bedrock/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<time>_<id>.json.gz`: Bedrock's
  S3 delivery, a file per hour, a record per line, with short made-up prompt and completion bodies (real ones are
  longer) that the reader must skip;
- `litellm/spend_logs_YYYY-MM-DD.csv`: a LiteLLM_SpendLogs export per day (`\\copy ... CSV HEADER`), metadata as
  JSON with the usage object and the caller's tags, request tags `["task:<task>"]`;
- `cur/<export>/data/BILLING_PERIOD=YYYY-MM/<execution>/<export>-00001.snappy.parquet` and its manifest
  `cur/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`: Bedrock token lines, an EC2 and an S3
  line a day, an idle SageMaker endpoint on Sundays;
- `focus/<biller>-focus-YYYY-MM.csv`: OpenAI, Anthropic, Google, Azure and Mistral bills;
- `tasks.csv`, `aispend.yaml`, and `e2e.json` (what was written: days, events per day and format).
Only the bills of a month (a few hundred lines a day) wait in memory for the month's end; events never do.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import yaml

from pipelines.demo.spans import _kv_bool, _kv_int, _kv_str, _resource_prefix
from scale import INVOICE_DISCOUNT, INVOICE_PROVIDER, LIST_RATES, REGIONS, day_events, task_catalog
from usage_pricing import ALIASES, DISCOUNTS

LITELLM_SHARE = 25  # percent of the events neither in Bedrock logs nor LiteLLM-only ids that LiteLLM logs
ACCOUNT, LOG_REGION = "111122223333", "us-east-1"
LITELLM_PROVIDERS = {"aws.bedrock": "bedrock", "gcp.vertex_ai": "vertex_ai", "azure.ai.openai": "azure",
                     "mistral_ai": "mistral"}
PROMPT = "Summarize the attached ticket thread and propose a reply for the customer. " * 2


@dataclass
class Written:
    """What the generator wrote: the days, the events per day and per format."""

    first_day: date
    days: list[date]
    per_day: dict[str, int] = field(default_factory=dict)
    per_format: dict[str, int] = field(default_factory=lambda: {"otel": 0, "bedrock": 0, "litellm": 0})
    months: list[str] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(self.per_day.values())

    def save(self, root: Path) -> None:
        (root / "e2e.json").write_text(json.dumps({
            "first_day": self.first_day.isoformat(), "days": [d.isoformat() for d in self.days],
            "per_day": self.per_day, "per_format": self.per_format, "months": self.months}, indent=1))

    @classmethod
    def load(cls, root: Path) -> "Written":
        doc = json.loads((root / "e2e.json").read_text())
        return cls(date.fromisoformat(doc["first_day"]), [date.fromisoformat(d) for d in doc["days"]],
                   doc["per_day"], doc["per_format"], doc["months"])


# ------------------------------------------------------------------------------------------------ events


def day_frame(n: int, day: date, offset: int) -> pl.DataFrame:
    """One day's events (rows offset..offset+n of the whole run) with the format each is written in."""
    litellm_only = pl.col("raw_model").str.starts_with("openai/") | pl.col("raw_model").str.starts_with("bedrock/")
    by_hash = (pl.col("request_id").hash(31) % 100) < LITELLM_SHARE
    fmt = (pl.when(litellm_only).then(pl.lit("litellm"))
           .when(pl.col("provider") == "aws.bedrock").then(pl.lit("bedrock"))
           .when(by_hash).then(pl.lit("litellm")).otherwise(pl.lit("otel")))
    user = pl.concat_str([pl.lit("usr_"), pl.col("team"), pl.lit("_"), (pl.col("request_id").hash(32) % 25).cast(pl.String)])
    return day_events(n, day, offset).with_columns(fmt.alias("format"), user.alias("user_id")).collect()


def _text(value: pl.Expr) -> pl.Expr:
    return value.cast(pl.String)


def span_json() -> pl.Expr:
    """One span as OTLP JSON (input tokens include cache, as OTel counts them; absent attributes left out)."""
    start_ns = pl.col("event_time").dt.epoch("ns")
    end_ns = start_ns + (pl.col("latency_ms") * 1e6).cast(pl.Int64)
    ok = pl.col("status") == "ok"
    cache_read, cache_write = pl.col("cache_read_tokens"), pl.col("cache_write_tokens")
    attributes = pl.concat_list([
        _kv_str("gen_ai.provider.name", pl.col("provider")),
        _kv_str("gen_ai.operation.name", pl.lit("chat")),
        _kv_str("gen_ai.request.model", pl.col("raw_model")),
        _kv_str("gen_ai.response.model", pl.when(ok).then(pl.col("raw_model"))),
        _kv_str("gen_ai.response.id", pl.when(ok).then(pl.col("request_id"))),
        _kv_int("gen_ai.usage.input_tokens", pl.col("input_tokens") + cache_read + cache_write),
        _kv_int("gen_ai.usage.output_tokens", pl.col("output_tokens")),
        _kv_int("gen_ai.usage.cache_read.input_tokens", pl.when(cache_read > 0).then(cache_read)),
        _kv_int("gen_ai.usage.cache_creation.input_tokens", pl.when(cache_write > 0).then(cache_write)),
        _kv_int("gen_ai.usage.reasoning.output_tokens", pl.when(pl.col("reasoning_tokens") > 0).then(pl.col("reasoning_tokens"))),
        _kv_str("error.type", pl.when(~ok).then(pl.lit("rate_limit"))),
        _kv_str("aispend.task", pl.col("task")),
        _kv_str("aispend.team", pl.col("team")),
        _kv_str("aispend.run_id", pl.col("run_id")),
        _kv_str("aispend.outcome", pl.col("outcome")),
        _kv_bool("aispend.batch", pl.col("is_batch")),
        _kv_str("user.id", pl.col("user_id")),
    ]).list.drop_nulls().list.join(",")
    status = pl.when(ok).then(pl.lit('{"code":0}')).otherwise(pl.lit('{"code":2,"message":"429 Too Many Requests"}'))
    return pl.concat_str([
        pl.lit('{"traceId":"'), pl.col("run_id"), pl.lit('","spanId":"'), pl.col("request_id"),
        pl.lit('","name":"chat '), pl.col("raw_model"), pl.lit('","kind":3,"startTimeUnixNano":"'), _text(start_ns),
        pl.lit('","endTimeUnixNano":"'), _text(end_ns), pl.lit('","attributes":['), attributes,
        pl.lit('],"status":'), status, pl.lit("}"),
    ])


def otlp_lines(spans: pl.DataFrame, batch_size: int = 500) -> pl.Series:
    service = pl.concat_str([pl.lit("svc-"), pl.col("team")])
    return (
        spans.lazy().sort("event_time")
        .with_columns(span_json().alias("json"), service.alias("service"))
        .with_columns((pl.int_range(pl.len()).over("service") // batch_size).alias("batch"))
        .group_by("service", "batch")
        .agg(pl.col("json").str.join(","), pl.col("event_time").min().alias("first"))
        .sort("first", "service")
        .select(pl.concat_str([_resource_prefix(pl.col("service")), pl.col("json"), pl.lit("]}]}]}")]).alias("line"))
        .collect()["line"]
    )


def bedrock_json() -> pl.Expr:
    """One invocation record (Bedrock's own token counts exclude cache); bodies hold text the reader must skip."""
    def tag(key: str, value: pl.Expr) -> pl.Expr:
        return pl.when(value.is_not_null()).then(pl.concat_str([pl.lit(f',"{key}":"'), value, pl.lit('"')])).otherwise(pl.lit(""))

    error = pl.when(pl.col("status") == "error").then(pl.lit(',"errorCode":"ThrottlingException"')).otherwise(pl.lit(""))
    return pl.concat_str([
        pl.lit('{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"'),
        pl.col("event_time").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.lit(f'","accountId":"{ACCOUNT}","identity":{{"arn":"arn:aws:sts::{ACCOUNT}:assumed-role/app-'),
        pl.col("team"), pl.lit(f'/session"}},"region":"{LOG_REGION}","requestId":"req-'), pl.col("request_id"),
        pl.lit('","operation":"Converse","modelId":"'), pl.col("raw_model"),
        pl.lit('","input":{"inputContentType":"application/json","inputBodyJson":{"messages":[{"role":"user",'
               f'"content":[{{"text":"{PROMPT}ticket '), pl.col("request_id"),
        pl.lit('"}]}]},"inputTokenCount":'), _text(pl.col("input_tokens")),
        pl.lit(',"cacheReadInputTokenCount":'), _text(pl.col("cache_read_tokens")),
        pl.lit(',"cacheWriteInputTokenCount":'), _text(pl.col("cache_write_tokens")),
        pl.lit('},"output":{"outputContentType":"application/json","outputBodyJson":{"output":{"message":'
               '{"role":"assistant","content":[{"text":"Thanks for your patience: here is what we found."}]}},'
               '"stopReason":"end_turn"},"outputTokenCount":'), _text(pl.col("output_tokens")),
        pl.lit('},"requestMetadata":{"source":"e2e"'), tag("task", pl.col("task")), tag("team", pl.col("team")),
        tag("run_id", pl.col("run_id")), tag("outcome", pl.col("outcome")), pl.lit("}"), error, pl.lit("}"),
    ])


def litellm_rows(events: pl.DataFrame) -> pl.DataFrame:
    """LiteLLM_SpendLogs columns; prompt_tokens include cache reads and writes, as current LiteLLM counts them."""
    prompt = pl.col("input_tokens") + pl.col("cache_read_tokens") + pl.col("cache_write_tokens")
    start = pl.col("event_time")
    end = start + pl.duration(microseconds=(pl.col("latency_ms") * 1000).cast(pl.Int64))
    pg_time = "%Y-%m-%d %H:%M:%S%.6f+00"
    caller = pl.concat_str([pl.lit('{"run_id":"'), pl.col("run_id"), pl.lit('"'),
                            pl.when(pl.col("outcome").is_not_null()).then(
                                pl.concat_str([pl.lit(',"outcome":"'), pl.col("outcome"), pl.lit('"')]))
                            .otherwise(pl.lit("")), pl.lit("}")])
    metadata = pl.concat_str([
        pl.lit('{"user_api_key_alias":"'), pl.col("team"), pl.lit('-key","user_api_key_team_alias":"'), pl.col("team"),
        pl.lit('","model_group":"'), pl.col("raw_model"), pl.lit('","usage_object":{"completion_tokens":'),
        _text(pl.col("output_tokens")), pl.lit(',"prompt_tokens":'), _text(prompt),
        pl.lit(',"completion_tokens_details":{"reasoning_tokens":'), _text(pl.col("reasoning_tokens")),
        pl.lit('},"prompt_tokens_details":{"cached_tokens":'), _text(pl.col("cache_read_tokens")),
        pl.lit('},"cache_read_input_tokens":'), _text(pl.col("cache_read_tokens")),
        pl.lit(',"cache_creation_input_tokens":'), _text(pl.col("cache_write_tokens")),
        pl.lit('},"spend_logs_metadata":'), caller, pl.lit("}"),
    ])
    return events.select(
        pl.col("request_id"), pl.lit("acompletion").alias("call_type"),
        pl.concat_str([pl.lit("sk-hash-"), pl.col("team")]).alias("api_key"),
        ((prompt + pl.col("output_tokens")) * 2e-6).round(8).alias("spend"),
        prompt.alias("prompt_tokens"), pl.col("output_tokens").alias("completion_tokens"),
        (prompt + pl.col("output_tokens")).alias("total_tokens"),
        start.dt.strftime(pg_time).alias("startTime"), end.dt.strftime(pg_time).alias("endTime"),
        pl.col("raw_model").alias("model"), pl.col("raw_model").alias("model_group"),
        pl.col("provider").replace(LITELLM_PROVIDERS).alias("custom_llm_provider"),
        pl.col("user_id").alias("user"), pl.concat_str([pl.lit("team-id-"), pl.col("team")]).alias("team_id"),
        pl.lit(None, pl.String).alias("end_user"),
        pl.when(pl.col("status") == "ok").then(pl.lit("success")).otherwise(pl.lit("failure")).alias("status"),
        metadata.alias("metadata"), pl.lit("False").alias("cache_hit"),
        pl.concat_str([pl.lit('["task:'), pl.col("task"), pl.lit('"]')]).alias("request_tags"),
    )


def write_usage(root: Path, day: date, events: pl.DataFrame) -> dict[str, int]:
    """The day's usage files in the three formats; the events written in each."""
    by = {f: events.filter(pl.col("format") == f) for f in ("otel", "bedrock", "litellm")}
    otel = root / "otel" / f"{day.isoformat()}.jsonl.gz"
    otel.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(otel, "wb", compresslevel=1) as out:  # level 1: generation time is not what is measured
        for line in otlp_lines(by["otel"]):
            out.write(line.encode() + b"\n")
    hours = by["bedrock"].sort("event_time").with_columns(bedrock_json().alias("json"), pl.col("event_time").dt.hour().alias("hour"))
    for (hour,), frame in hours.partition_by("hour", as_dict=True, maintain_order=True).items():
        folder = root / "bedrock" / "AWSLogs" / ACCOUNT / "BedrockModelInvocationLogs" / LOG_REGION / f"{day:%Y/%m/%d}" / f"{hour:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        text = frame.select(pl.col("json").str.join("\n")).item() + "\n"
        name = f"{day:%Y%m%d}T{hour:02d}0000Z_{hashlib.sha1(f'{day}{hour}'.encode()).hexdigest()[:12]}.json.gz"
        (folder / name).write_bytes(gzip.compress(text.encode(), compresslevel=1, mtime=0))
    litellm = root / "litellm" / f"spend_logs_{day.isoformat()}.csv"
    litellm.parent.mkdir(parents=True, exist_ok=True)
    litellm_rows(by["litellm"].sort("event_time")).write_csv(litellm)
    return {f: frame.height for f, frame in by.items()}


# ------------------------------------------------------------------------------------------ the data set


def history_days(days: int, today: date) -> list[date]:
    """`days` days ending the day before yesterday (UTC), so the daily run's new day, yesterday, is still inside
    the partitions (config start_date .. today)."""
    last = today - timedelta(days=2)
    return [last - timedelta(days=days - 1 - k) for k in range(days)]


def generate(root: Path, events: int, days: int, today: date, progress=print) -> Written:
    """The history: `events` events over `days` days, written a day at a time, with bills, catalog and config."""
    from e2e_bills import MonthBills

    day_list = history_days(days, today)
    written = Written(day_list[0], day_list)
    per_day, extra = divmod(events, days)
    bills = MonthBills(root)
    for k, day in enumerate(day_list):
        n = per_day + (1 if k < extra else 0)
        frame = day_frame(n, day, written.events)
        for fmt, count in write_usage(root, day, frame).items():
            written.per_format[fmt] += count
        bills.add(day, frame)
        written.per_day[day.isoformat()] = n
        if progress and (k % 10 == 9 or k == days - 1):
            progress(f"  generated {k + 1}/{days} days ({written.events:,} events)")
    bills.flush()
    written.months = sorted({d.strftime("%Y-%m") for d in day_list})
    write_catalog(root)
    write_config(root, day_list[0])
    written.save(root)
    return written


def add_day(root: Path, written: Written) -> tuple[date, dict[str, int]]:
    """The daily delivery: one more day of usage files (a day's worth of events) after the history."""
    day = written.days[-1] + timedelta(days=1)
    n = written.events // len(written.days)
    counts = write_usage(root, day, day_frame(n, day, written.events))
    written.days.append(day)
    written.per_day[day.isoformat()] = n
    for fmt, count in counts.items():
        written.per_format[fmt] += count
    written.save(root)
    return day, counts


def write_catalog(root: Path) -> None:
    catalog = task_catalog().drop("eligible_models", strict=False)
    catalog.write_csv(root / "tasks.csv")


def write_config(root: Path, first_day: date) -> Path:
    """aispend.yaml over the files, with usage_pricing.py's aliases and discounts (so every pricing rule runs)."""
    config = {
        "warehouse": "warehouse/aispend.duckdb",
        "task_catalog": "tasks.csv",
        "start_date": first_day.replace(day=1).isoformat(),
        "sources": [
            {"name": "otel", "kind": "otel_genai", "path": "otel/*.jsonl.gz"},
            {"name": "bedrock", "kind": "bedrock_invocation_logs", "path": "bedrock/AWSLogs",
             "options": {"pattern": "*.json.gz"}},
            {"name": "litellm", "kind": "litellm_spend", "path": "litellm/*.csv"},
            {"name": "cur", "kind": "aws_cur", "path": "cur"},
            {"name": "focus", "kind": "focus", "path": "focus/*.csv"},
        ],
        "prices": {"discounts": [d.model_dump(mode="json") for d in DISCOUNTS]},
        "model_aliases": [a.model_dump(mode="json", exclude_none=True) for a in ALIASES],
        "budgets": [{"name": "total", "monthly_usd": 500_000}, {"name": "team-1", "team": "team-1", "monthly_usd": 60_000}],
        "checks": {"max_age_hours": 876_000},  # freshness is not what the bench measures
    }
    path = root / "aispend.yaml"
    path.write_text("# Written by bench/end_to_end.py; paths are relative to this file.\n"
                    + yaml.safe_dump(config, sort_keys=False))
    return path


def bytes_per_event(scratch: Path, sample: int = 20_000) -> float:
    """The usage files' size per event, from one sample day of the same mix written under `scratch`."""
    day = date(2026, 1, 5)
    write_usage(scratch, day, day_frame(sample, day, 0))
    return sum(p.stat().st_size for p in scratch.rglob("*") if p.is_file()) / sample
