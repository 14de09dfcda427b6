"""Amazon Bedrock model invocation logs into usage_events, one row per model call; never a prompt.

Where the logs come from: Bedrock's S3 delivery (`P/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/
YYYY/MM/DD/HH/*.json.gz`, read through `file_units` like any file) or a CloudWatch Logs export. The shape is
detected per file, because all of these are what people have on disk:
- JSON lines, one record per line (S3 delivery), or records concatenated / pretty-printed / in a JSON array;
- CloudWatch lines `{"timestamp": <ms>, "message": "<the record as a JSON string>"}`;
- `aws logs filter-log-events` (or get-log-events) output `{"events": [{"timestamp", "message"}, ...]}`;
- CloudWatch's export-to-S3 lines `2025-08-15T14:39:40.000Z {record}`.

Prompts and completions never reach the warehouse, the logs or an error message: every record is decoded
with a Polars struct schema that simply has no `inputBodyJson` / `outputBodyJson` / `*S3Path` fields, so the
decoded frame never holds them; the raw text exists only while it is being decoded. Errors name the line (or
record) and the field, never a value that could come from a body.

Token accounting: Bedrock's `inputTokenCount` already EXCLUDES cache reads and writes, so it is
usage_events.input_tokens as is. Guardrail-blocked calls carry no token fields: they count 0. No cost and no
latency are logged.

Options (`source.options`): the keys of `requestMetadata` (the caller's own tags) that name the task
(`task_key`, default "task"), team (`team_key`, "team"), run id (`run_id_key`, "run_id"), outcome
(`outcome_key`, "outcome": success / failure), project (`project_key`, "project") and the work item the
request served (`work_item_key`, "work_item"; docs/evidence.md); `pattern` (e.g.
"*.json.gz") is used by ingest to pick files under an s3:// prefix.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

import re

import duckdb
import polars as pl
from pydantic import Field

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.models import normalize_model
from pipelines.schemas import UNATTRIBUTED, USAGE_EVENTS, conform
from pipelines.sources.spec import FileOptions, SourceSpec, Watch
from pipelines.sources.bounds import TABLES, TOKENS, refuse_bad_values
from pipelines.sources.common import (
    array_items, blank_to_null, decode_json, first_repeated_key, on_the_side, parse_utc, per_file, read_bytes, utf8,
)

PROVIDER = "aws"
SCHEMA_TYPE = "ModelInvocationLog"
_KEY = r"^\S+$"


class BedrockOptions(FileOptions):
    """The `requestMetadata` keys (the caller's own tags) that name task, team, run, outcome and project."""

    task_key: str = Field(default="task", pattern=_KEY)
    team_key: str = Field(default="team", pattern=_KEY)
    run_id_key: str = Field(default="run_id", pattern=_KEY)
    outcome_key: str = Field(default="outcome", pattern=_KEY)
    project_key: str = Field(default="project", pattern=_KEY)
    work_item_key: str = Field(default="work_item", pattern=_KEY)
# Token fields as (struct, field): counts are decoded as text and checked, so "12", 12 and 12.0 all work.
TOKEN_FIELDS = {
    "input_tokens": ("input", "inputTokenCount"),
    "cache_read_tokens": ("input", "cacheReadInputTokenCount"),
    "cache_write_tokens": ("input", "cacheWriteInputTokenCount"),
    "output_tokens": ("output", "outputTokenCount"),
}

_S = pl.String
# CloudWatch export-to-S3 writes "<ISO time> <message>" per line (a Polars pattern, replaced by "{").
_CW_EXPORT_PREFIX = r"^[ \t]*\d{4}-\d{2}-\d{2}T\S+[ \t]+\{"
# Between two top-level objects only; inside a JSON string the same text may match, which only changes
# body text we never decode (a literal newline cannot occur inside a JSON string).
_OBJECT_BOUNDARY = re.compile(r"\}\s*\{")


def record_dtype(metadata_keys: list[str]) -> pl.Struct:
    """The fields we keep of one invocation record. Bodies are absent on purpose: they are never decoded."""
    return pl.Struct(
        {
            "schemaType": _S,
            "timestamp": _S,
            "accountId": _S,
            "identity": pl.Struct({"arn": _S}),
            "region": _S,
            "requestId": _S,
            "operation": _S,
            "modelId": _S,
            "input": pl.Struct({"inputTokenCount": _S, "cacheReadInputTokenCount": _S, "cacheWriteInputTokenCount": _S}),
            "output": pl.Struct({"outputTokenCount": _S}),
            "requestMetadata": pl.Struct({k: _S for k in metadata_keys}),
            "errorCode": _S,
        }
    )


def envelope_dtype(record: pl.Struct) -> pl.Struct:
    """A top-level object: a record, a CloudWatch line (`message`), or a filter-log-events page (`events`)."""
    return pl.Struct(
        {
            **{f.name: f.dtype for f in record.fields},
            "message": _S,
            "events": pl.List(pl.Struct({"timestamp": _S, "message": _S})),
        }
    )


def read(path: str, source: SourceConfig, data: bytes | None = None) -> pl.DataFrame:
    options = source.options.model_dump(exclude=set(FileOptions.model_fields))  # the kind's own keys
    record, envelope, columns = _plan(tuple(options.items()))
    objects, unit = _top_level_objects(path, data)
    envelopes = _decoded_and_checked(objects["text"], envelope, record, path, _where(objects, unit), unit)
    top = objects.select("pos").with_columns(envelopes.alias("env")).unnest("env")
    records = _with_event_time(_records(top, record, path, unit))
    _validate(records, path, unit)
    events = records.with_columns(*columns, pl.lit(source.name).alias("x_source"), pl.lit(path).alias("x_source_file"))
    return conform(events, USAGE_EVENTS)


class NotTogether(Exception):
    """Files `read_many` leaves to `read`, one by one (which names any fault)."""


def read_many(files: list[tuple[str, bytes]], source: SourceConfig) -> list[pl.DataFrame]:
    """Several files of Bedrock's S3 delivery (JSON lines of records) read as one: the frame `read` gives for
    each, with one decode, one repeated-key query and one pass of checks for them all, where reading them one
    by one cost about 13 ms a file before its first record (Bedrock writes a file every few minutes, of a few
    hundred records). Any other shape, and any fault, raises: the files are then read by `read` one by one,
    which says which file and line is at fault."""
    options = source.options.model_dump(exclude=set(FileOptions.model_fields))
    record, envelope, columns = _plan(tuple(options.items()))
    text = pl.col("text")
    lines = (
        pl.DataFrame({"text": [_text(path, data) for path, data in files]})
        .with_row_index("file")
        .with_columns(text.str.split("\n"))
        .explode("text")
        .with_columns((pl.int_range(pl.len()).over("file") + 1).cast(pl.Int64).alias("pos"),
                      text.str.replace(_CW_EXPORT_PREFIX, "{").str.strip_chars())
        .filter(text != "")
    )
    looks_several = lines.filter(text.str.contains(r"\}\s*\{"))  # parsed to make sure, as `_json_lines` does
    if looks_several.select(text.str.json_path_match("$").is_null().any()).item():
        raise NotTogether("a line holds several records")
    envelopes = _decoded_and_checked(lines["text"], envelope, record, "", _where(lines, "line"), "line")
    top = lines.select("pos").with_columns(envelopes.alias("env")).unnest("env")
    if top["message"].null_count() != top.height or top["events"].null_count() != top.height:
        raise NotTogether("CloudWatch records")
    records = _with_event_time(_records(top, record, "", "line"))  # a record per line, in file order
    _validate(records, "", "line")
    paths = pl.Series([path for path, _ in files], dtype=pl.String)
    events = conform(records.with_columns(*columns, pl.lit(source.name).alias("x_source"),
                                          paths.gather(lines["file"]).alias("x_source_file")), USAGE_EVENTS)
    return per_file(events, lines["file"], len(files))


@lru_cache(maxsize=16)
def _plan(options: tuple[tuple[str, str], ...]) -> tuple[pl.Struct, pl.Struct, tuple[pl.Expr, ...]]:
    """What a file is read with, built once per set of options (the same for every file of a source): the
    record and envelope dtypes and the usage_events columns."""
    keys = dict(options)
    record = record_dtype(list(dict.fromkeys(keys.values())))
    return record, envelope_dtype(record), tuple(_event_columns(keys))


@lru_cache(maxsize=16)
def _keyed_objects(record: pl.Struct) -> dict[str, list[str]]:
    """The objects (JSON paths) whose keys are read, and those keys: where a repeated key matters."""
    objects = {"$": [f.name for f in record.fields]}
    for field in record.fields:
        if isinstance(field.dtype, pl.Struct):
            objects[f"$.{field.name}"] = [f.name for f in field.dtype.fields]
    return objects


def _refuse_repeated_keys(texts: pl.Series, record: pl.Struct, path: str, where, unit: str) -> None:
    """A field written twice in one record (`"modelId": "a", ..., "modelId": "b"`) would be read as one of
    the two, silently: refuse it, naming the field. Only the fields read are looked at, never the bodies."""
    found = first_repeated_key(texts, _keyed_objects(record))
    if found is not None:
        label, pos = where(found[0])
        raise SourceError(path, f"{label}: field {found[1]!r} appears twice (which value counts is not guessed)",
                          row=pos, column=found[1], unit=unit)


def _decoded_and_checked(texts: pl.Series, dtype: pl.Struct, record: pl.Struct, path: str, where,
                         unit: str) -> pl.Series:
    """`decode_json` of the texts, with the repeated-key test (DuckDB's key lists) run beside it: together
    they are most of a file's time, and both let go of the GIL. A decode fault is reported before a repeated
    key, as when they ran one after the other."""
    repeats = on_the_side(_refuse_repeated_keys, texts, record, path, where, unit)
    try:
        decoded = decode_json(texts, dtype, path, where)
    except BaseException:
        repeats.exception()  # wait for it, whatever it found: the decode's fault is the one reported
        raise
    repeats.result()  # raises the repeated key it found
    return decoded


def _text(path: str, data: bytes | None) -> str:
    return utf8(path, read_bytes(path, data))


def _top_level_objects(path: str, data: bytes | None) -> tuple[pl.DataFrame, str]:
    """Each top-level JSON object as text with its position: (`pos`, `text`), and what `pos` counts.

    JSON lines keep their line numbers. Anything else (records concatenated or pretty-printed, a JSON array,
    the CLI's pretty `{"events": [...]}`) is turned into one line and split into records by Polars. A line's
    CloudWatch export prefix is cut off first, line by line (a JSON string holds no raw line break).
    """
    lines = (
        pl.DataFrame({"text": _text(path, data).split("\n")})
        .with_row_index("pos", offset=1)
        .with_columns(pl.col("text").str.replace(_CW_EXPORT_PREFIX, "{").str.strip_chars(), pl.col("pos").cast(pl.Int64))
        .filter(pl.col("text") != "")
    )
    if _json_lines(lines):
        return lines, "line"
    body = lines["text"].str.join(" ").item().replace("\r", " ")  # JSON strings hold no raw line breaks
    if body.startswith("{"):
        body = "[" + _OBJECT_BOUNDARY.sub("},{", body) + "]"
    if not body.startswith("["):
        first = lines.filter(~pl.col("text").str.starts_with("{") & ~pl.col("text").str.starts_with("[")).head(1)
        line = int(first["pos"][0]) if first.height else 1
        raise SourceError(path, f"line {line} is not JSON (expected invocation log records)", row=line)
    try:
        records = array_items(body)
    except duckdb.Error:  # never show DuckDB's message: it quotes the offending text
        raise SourceError(path, "not valid JSON: neither JSON lines nor JSON objects nor a JSON array") from None
    objects = pl.DataFrame({"text": records}).with_row_index("pos", offset=1).with_columns(pl.col("pos").cast(pl.Int64))
    return objects, "record"


def _json_lines(lines: pl.DataFrame) -> bool:
    """JSON lines when the first line is a whole object and no line holds several objects back to back (only
    lines that look so are parsed to make sure); a bad line further down is then named by its number."""
    if lines.height == 0:
        return True
    text = pl.col("text")
    first, looks_several = lines.select(
        (text.first().str.starts_with("{") & text.first().str.json_path_match("$").is_not_null()).alias("first"),
        text.str.contains(r"\}\s*\{").any().alias("several"),
    ).row(0)
    if not first:
        return False
    if not looks_several:
        return True
    return not lines.filter(text.str.contains(r"\}\s*\{")).select(text.str.json_path_match("$").is_null().any()).item()


def _where(frame: pl.DataFrame, unit: str, event: pl.Series | None = None):
    def describe(index: int) -> tuple[str, int]:
        pos = int(frame["pos"][index])
        suffix = f", event {int(event[index])}" if event is not None and event[index] is not None else ""
        return f"{unit} {pos}{suffix}", pos

    return describe


def _records(top: pl.DataFrame, record: pl.Struct, path: str, unit: str) -> pl.DataFrame:
    """Invocation records from all three envelopes, in file order, with their position for messages."""
    names = [f.name for f in record.fields]
    is_cloudwatch = pl.col("message").is_not_null() | pl.col("events").is_not_null()
    plain = ["pos", pl.lit(None, pl.Int64).alias("event"), pl.lit(None, pl.Datetime("us")).alias("cw_time"), *names]
    if top["message"].null_count() == top.height and top["events"].null_count() == top.height:
        return top.select(plain)  # records only (S3 delivery): nothing to unwrap, already in file order
    direct = top.filter(~is_cloudwatch).select(plain)
    lines = top.filter(pl.col("message").is_not_null()).select(
        "pos", pl.lit(None, pl.Int64).alias("event"), "timestamp", "message"
    )
    pages = (
        top.filter(pl.col("events").is_not_null() & pl.col("message").is_null())
        .select("pos", "events")
        .explode("events")
        .with_columns((pl.int_range(pl.len()).over("pos") + 1).cast(pl.Int64).alias("event"))
        .filter(pl.col("events").is_not_null())
        .unnest("events")
        .select("pos", "event", "timestamp", "message")
    )
    messages = pl.concat([lines, pages]).sort("pos", "event", maintain_order=True)
    messages = messages.filter(pl.col("message").is_not_null())
    texts = messages["message"].str.strip_chars()
    decoded = _decoded_and_checked(texts, record, record, path, _where(messages, unit, messages["event"]), unit)
    from_cloudwatch = messages.select(
        "pos", "event", _millis_to_utc(pl.col("timestamp")).alias("cw_time")
    ).with_columns(decoded.alias("r")).unnest("r")
    return pl.concat([direct, from_cloudwatch.select(direct.columns)]).sort("pos", "event", maintain_order=True)


def _millis_to_utc(col: pl.Expr) -> pl.Expr:
    return col.str.strip_chars().cast(pl.Float64, strict=False).cast(pl.Int64).cast(pl.Datetime("ms")).cast(
        pl.Datetime("us")
    )


def _field(struct: str, field: str) -> pl.Expr:
    return pl.col(struct).struct.field(field)


def _count(struct: str, field: str) -> pl.Expr:
    return _field(struct, field).str.strip_chars().cast(pl.Float64, strict=False)


# Bedrock's own timestamp shape; a column written so throughout is parsed with one format (what parse_utc
# makes of it), anything else goes through parse_utc's rewrites.
_BEDROCK_TIME = r"^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$"
_EVENT_TIME = "_event_time"


def _with_event_time(records: pl.DataFrame) -> pl.DataFrame:
    """The records with their event time, parsed once for both the checks and the event_time column: the
    record's `timestamp`, else the CloudWatch event's."""
    stamps = records["timestamp"]
    fast = stamps.str.to_datetime("%Y-%m-%dT%H:%M:%SZ", strict=False, time_unit="us")
    if fast.null_count() == stamps.null_count() and (stamps.is_null() | stamps.str.contains(_BEDROCK_TIME)).all():
        return records.with_columns(pl.coalesce(fast, pl.col("cw_time")).alias(_EVENT_TIME))
    return records.with_columns(pl.coalesce(parse_utc(pl.col("timestamp")), pl.col("cw_time")).alias(_EVENT_TIME))


@lru_cache(maxsize=1)
def _checks() -> list[tuple[pl.Expr, str, str]]:
    """(bad, reason, field) in the order a record's faults are reported."""
    out = [
        (pl.col("schemaType").is_not_null() & (pl.col("schemaType") != SCHEMA_TYPE),
         f"is not {SCHEMA_TYPE}: not a Bedrock model invocation log record", "schemaType"),
        (blank_to_null(pl.col("modelId")).is_null(), "is missing", "modelId"),
        (pl.col("timestamp").is_null() & pl.col("cw_time").is_null(), "is missing", "timestamp"),
        (pl.col(_EVENT_TIME).is_null(), "is not a timestamp", "timestamp"),
    ]
    for struct, field in TOKEN_FIELDS.values():
        name = f"{struct}.{field}"
        parsed = _count(struct, field)
        out.append((_field(struct, field).is_not_null() & parsed.is_null(), "is not a number", name))
        out.append((TOKENS.bad(parsed), f"is not {TOKENS.expected()}", name))
    return out


def _validate(records: pl.DataFrame, path: str, unit: str) -> None:
    """Every check in one pass (the first failing row of each); the first check that fails is refused, at its
    first row, as checking them one after another would.

    Last, in the same pass, the event time against its bound (the load window, relative to today): the one
    usage_events column with a bound these checks leave able to fail (token counts pass the same bound above,
    request_count and reasoning_tokens are constants, latency_ms and cost_usd null), so it is what
    `refuse_bad_values` over the finished frame would find first; it words the refusal as for any reader."""
    checks = _checks()
    late = TABLES["usage_events"]["event_time"].bad(pl.col(_EVENT_TIME))
    firsts = records.select(
        *(bad.fill_null(False).arg_true().first().alias(f"c{i}") for i, (bad, _, _) in enumerate(checks)),
        late.fill_null(False).arg_true().first().alias("late"),
    ).row(0)
    for index, (_, reason, column) in zip(firsts, checks):
        if index is not None:
            pos = int(records["pos"][index])
            event = records["event"][index]
            label = f"{unit} {pos}" + (f", event {int(event)}" if event is not None else "")
            raise SourceError(path, f"{label}: field {column!r} {reason}", row=pos, column=column, unit=unit)
    if firsts[-1] is not None:
        row = records.slice(firsts[-1], 1)
        refuse_bad_values(row.select(pl.col(_EVENT_TIME).alias("event_time")), "usage_events", path,
                          rows=row["pos"], label=unit, names={"event_time": "timestamp"})


def _tag(key: str) -> pl.Expr:
    return blank_to_null(pl.col("requestMetadata").struct.field(key))


def _event_columns(options: dict[str, str]) -> list[pl.Expr]:
    outcome = _tag(options["outcome_key"]).str.to_lowercase()
    tokens = [
        pl.coalesce(_count(struct, field), pl.lit(0.0)).cast(pl.Int64).alias(name)
        for name, (struct, field) in TOKEN_FIELDS.items()
    ]
    model_id = pl.col("modelId").str.strip_chars()
    return [
        pl.col(_EVENT_TIME).alias("event_time"),
        pl.lit(PROVIDER).alias("provider"),
        normalize_model(pl.lit(PROVIDER), model_id).alias("model"),
        pl.col("modelId").alias("raw_model"),
        pl.coalesce(_tag(options["task_key"]), pl.lit(UNATTRIBUTED)).alias("task"),
        _tag(options["run_id_key"]).alias("run_id"),
        _tag(options["team_key"]).alias("team"),
        blank_to_null(pl.col("identity").struct.field("arn")).alias("user_id"),
        _tag(options["project_key"]).alias("project"),
        _tag(options["work_item_key"]).alias("work_item_id"),
        blank_to_null(pl.col("requestId")).alias("request_id"),
        pl.lit(1, pl.Int64).alias("request_count"),
        *tokens,
        pl.lit(0, pl.Int64).alias("reasoning_tokens"),
        pl.lit(False).alias("is_batch"),
        pl.when(blank_to_null(pl.col("errorCode")).is_not_null()).then(pl.lit("error")).otherwise(pl.lit("ok")).alias(
            "status"
        ),
        pl.when(outcome.is_in(["success", "failure"])).then(outcome).alias("outcome"),
        pl.lit(None, pl.Float64).alias("latency_ms"),
    ]


# Bedrock's S3 delivery: .../BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<file>
_LOG_HOUR = re.compile(r"/(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/\d{2}/[^/]+$")


def log_day(location: str) -> datetime | None:
    """The UTC day a delivered log object holds (its hour folder's date)."""
    m = _LOG_HOUR.search(location)
    return datetime(int(m["year"]), int(m["month"]), int(m["day"]), tzinfo=timezone.utc) if m else None


SPEC = SourceSpec(
    kind="bedrock_invocation_logs",
    table="usage_events",
    summary="Bedrock invocation logs from S3 or CloudWatch exports; bodies are never stored",
    doc="docs/sources/usage_logs.md",
    options=BedrockOptions,
    read=read,
    read_many=read_many,
    watch=Watch("new_logs", log_day, lambda location, etag: location,
                "A run per UTC day with new Bedrock invocation-log objects (run_key: the newest new object key)."),
)
