"""OpenTelemetry GenAI spans (JSON lines, optionally gzipped) into usage_events, one row per model call.

Two line shapes are accepted, detected per line, because both are what people actually have on disk:
OTLP JSON as the Collector's file exporter writes it, and flat span records as SDK console/JSON exporters
write them. Everything is parsed by Polars (decode, explode), never span by span in Python, so a file
of 200k spans reads in seconds.

Token accounting: OTel's `gen_ai.usage.input_tokens` INCLUDES cached tokens; usage_events.input_tokens is
uncached input only, so cache reads and writes are subtracted here, once, before pricing.

Options (`source.options`): `task_attribute` (default aispend.task), `team_attribute` (aispend.team),
`outcome_attribute` (aispend.outcome), `project_attribute` (aispend.project), `run_id_attribute`
(aispend.run_id), `batch_attribute` (aispend.batch), `work_item_attribute` (aispend.work_item: the work item a
request served, docs/evidence.md).
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.models import normalize_model, normalize_provider
from pipelines.schemas import UNATTRIBUTED, USAGE_EVENTS, conform
from pipelines.sources.spec import FileOptions, SourceSpec
from pipelines.sources.bounds import TOKENS, refuse_bad_values
from pipelines.sources.common import blank_to_null, first_repeated_key, parse_utc, read_bytes, text_lines

PROVIDER = ["gen_ai.provider.name", "gen_ai.system"]
MODEL = ["gen_ai.response.model", "gen_ai.request.model"]
REQUEST_ID = "gen_ai.response.id"
INPUT = ["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"]
OUTPUT = ["gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"]
CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
CACHE_WRITE = "gen_ai.usage.cache_creation.input_tokens"
REASONING = "gen_ai.usage.reasoning.output_tokens"
TOKEN_KEYS = [*INPUT, *OUTPUT, CACHE_READ, CACHE_WRITE, REASONING]
USER = ["user.id", "enduser.id"]
ERROR_TYPE = "error.type"

_ATTRIBUTE = r"^\S+$"


class OtelOptions(FileOptions):
    """The span attributes that carry aispend's own tags."""

    task_attribute: str = Field(default="aispend.task", pattern=_ATTRIBUTE)
    team_attribute: str = Field(default="aispend.team", pattern=_ATTRIBUTE)
    outcome_attribute: str = Field(default="aispend.outcome", pattern=_ATTRIBUTE)
    project_attribute: str = Field(default="aispend.project", pattern=_ATTRIBUTE)
    run_id_attribute: str = Field(default="aispend.run_id", pattern=_ATTRIBUTE)
    batch_attribute: str = Field(default="aispend.batch", pattern=_ATTRIBUTE)
    work_item_attribute: str = Field(default="aispend.work_item", pattern=_ATTRIBUTE)


# OTel provider names (current and older gen_ai.system values) to genai-prices provider ids.
OTEL_PROVIDERS = {
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.openai": "azure",
    "az.ai.inference": "azure",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "vertex_ai": "google",
    "gemini": "google",
    "mistral_ai": "mistral",
    "xai": "x-ai",
    "ibm.watsonx.ai": "ibm",
}
# usage_events.provider is NOT NULL; a span naming a model but no provider is kept under this name.
UNKNOWN_PROVIDER = "unknown"

# OTLP/JSON: every attribute value kept as text (ints arrive as "123" or 123); typed checks come later.
_KV = pl.List(
    pl.Struct(
        {
            "key": pl.String,
            "value": pl.Struct(
                {"stringValue": pl.String, "intValue": pl.String, "doubleValue": pl.String, "boolValue": pl.String}
            ),
        }
    )
)
_OTLP = pl.Struct(
    {
        "resourceSpans": pl.List(
            pl.Struct(
                {
                    "resource": pl.Struct({"attributes": _KV}),
                    "scopeSpans": pl.List(
                        pl.Struct(
                            {
                                "spans": pl.List(
                                    pl.Struct(
                                        {
                                            "traceId": pl.String,
                                            "spanId": pl.String,
                                            "startTimeUnixNano": pl.String,
                                            "endTimeUnixNano": pl.String,
                                            "attributes": _KV,
                                            "status": pl.Struct({"code": pl.String}),
                                        }
                                    )
                                )
                            }
                        )
                    ),
                }
            )
        )
    }
)


def read(path: str, source: SourceConfig, data: bytes | None = None) -> pl.DataFrame:
    options = source.options.model_dump(exclude=set(FileOptions.model_fields))  # the kind's own keys
    keys = _wanted_keys(options)
    lines = _lines(path, data)
    spans = pl.concat([_spans(part, keys, path) for part in _slices(lines)], how="diagonal_relaxed")
    del lines
    spans = spans.filter(_is_genai_call()).with_columns(_counts())
    _validate(spans, path)
    events = spans.with_columns(_event_columns(options)).with_columns(
        pl.lit(source.name).alias("x_source"), pl.lit(path).alias("x_source_file")
    )
    out = conform(events, USAGE_EVENTS)
    refuse_bad_values(out, "usage_events", path, rows=events["line_no"], label="line",
                      names={"event_time": "start_time", "latency_ms": "end_time"})
    return out


# A day's export can be a gigabyte of JSON (500k spans); decoded whole, its nested lists took six times that. The
# lines are decoded and flattened a slice of about this much text at a time; only the flat span rows are kept.
SLICE_BYTES = 64 << 20


def _slices(lines: pl.DataFrame) -> list[pl.DataFrame]:
    """The lines in order, cut where the text read so far passes each multiple of SLICE_BYTES (views, no copy)."""
    if lines.height == 0:
        return [lines]
    slice_of = lines["line"].str.len_bytes().cum_sum() // SLICE_BYTES
    starts = [0, *(slice_of.diff().fill_null(0) != 0).arg_true().to_list()]
    return [lines.slice(a, b - a) for a, b in zip(starts, [*starts[1:], lines.height])]


def _spans(lines: pl.DataFrame, keys: list[str], path: str) -> pl.DataFrame:
    """The spans of some lines, OTLP and flat alike, in line order."""
    is_otlp = pl.col("line").str.contains(r'"resourceSpans"\s*:')
    return pl.concat(
        [_otlp_spans(lines.filter(is_otlp), keys, path), _flat_spans(lines.filter(~is_otlp), keys, path)],
        how="diagonal_relaxed",
    ).sort("line_no", maintain_order=True)


def _wanted_keys(options: dict) -> list[str]:
    own = list(options.values())
    return list(dict.fromkeys([*PROVIDER, *MODEL, REQUEST_ID, *TOKEN_KEYS, *USER, ERROR_TYPE, *own]))


def _lines(path: str, data: bytes | None = None) -> pl.DataFrame:
    """Non-blank lines with their 1-based line numbers; a line that is not a JSON object refuses the file."""
    text = text_lines(path, read_bytes(path, data))  # Polars' own split took 6x the text; stripped below
    lines = (
        text.to_frame().lazy()
        .with_row_index("line_no", offset=1)
        .with_columns(pl.col("line").str.strip_chars(), pl.col("line_no").cast(pl.Int64))
        .filter(pl.col("line") != "")
        .collect()
    )
    del text
    _refuse_bad_lines(lines, ~pl.col("line").str.starts_with("{"), path)
    return lines


def _refuse_bad_lines(lines: pl.DataFrame, bad: pl.Expr, path: str) -> None:
    hit = lines.filter(bad).head(1)
    if hit.height:
        raise SourceError(path, "not a JSON object", row=int(hit["line_no"][0]), unit="line")


def _decode(lines: pl.DataFrame, dtype: pl.DataType, path: str) -> pl.Series:
    """Decode every line at once; only when that fails, look for the line to blame (a second, slower pass).

    The streaming engine decodes the lines in morsels on every core (a day's OTLP export is 50 MB of JSON, the
    bulk of reading it); a failure is decoded again in one piece, so the message is the one that pass gives."""
    try:
        return lines.lazy().select(pl.col("line").str.json_decode(dtype)).collect(engine="streaming").to_series()
    except pl.exceptions.PolarsError:
        pass
    try:
        return lines["line"].str.json_decode(dtype)
    except pl.exceptions.PolarsError as exc:
        _refuse_bad_lines(lines, pl.col("line").str.json_path_match("$").is_null(), path)
        raise SourceError(path, f"JSON that does not fit an OTel span: {exc}".splitlines()[0]) from exc


def _otlp_spans(lines: pl.DataFrame, keys: list[str], path: str) -> pl.DataFrame:
    per_line = pl.DataFrame({"line_no": lines["line_no"],
                             "rs": _decode(lines, _OTLP, path).struct.field("resourceSpans")})
    # Only the fields read are taken out of the nested lists (a field of a list's elements costs nothing), and
    # only those are exploded, level by level: exploding the spans whole copies every attribute, three times
    # the cost. `*_present` drops what exploding an empty or null list (or a null element) leaves.
    resource_attributes = _E.struct.field("resource").struct.field("attributes")
    span_fields = [*_SPAN_FIELDS, *_key_value(_E.struct.field("attributes"), "span")]
    span_names = [f.meta.output_name() for f in span_fields]
    in_spans = [_E.struct.field("scopeSpans").list.eval(_E.struct.field("spans").list.eval(f)).alias(name)
                for f, name in zip(span_fields, span_names)]
    resource_spans = (
        per_line.select(
            "line_no",
            *[pl.col("rs").list.eval(f).alias(f.meta.output_name())
              for f in [_E.is_not_null().alias("rs_present"), *_key_value(resource_attributes, "resource"), *in_spans]],
        )
        .explode(pl.exclude("line_no"))
        .filter(pl.col("rs_present"))
        .with_row_index("rs_idx")
    )
    spans = (
        resource_spans.select("line_no", "rs_idx", *span_names)
        .explode(span_names)
        .explode(span_names)
        .filter(pl.col("span_present"))
        .with_row_index("span_idx")
    )
    # Resource attributes are picked once per resource, then joined: a span attribute wins over its resource's.
    span_long, res_long = _kv_long(spans, "span_idx", "span"), _kv_long(resource_spans, "rs_idx", "resource")
    _refuse_repeated(span_long, spans, "span_idx", keys, path)
    _refuse_repeated(res_long, resource_spans, "rs_idx", keys, path)
    span_attrs = _wide(span_long, "span_idx", keys, spans.height)
    res_attrs = _wide(res_long, "rs_idx", keys, resource_spans.height)
    base = spans.select(
        "span_idx",
        "rs_idx",
        "line_no",
        pl.col("traceId").alias("trace_id"),
        _nanos_to_utc(pl.col("startTimeUnixNano")).alias("start_time"),
        _nanos_to_utc(pl.col("endTimeUnixNano")).alias("end_time"),
        pl.col("startTimeUnixNano").is_null().alias("start_missing"),
        pl.col("endTimeUnixNano").is_null().alias("end_missing"),
        pl.col("code").is_in(["2", "STATUS_CODE_ERROR"]).fill_null(False).alias("status_error"),
    )
    joined = base.join(span_attrs, on="span_idx", how="left").join(
        res_attrs, on="rs_idx", how="left", suffix="__resource"
    )
    return joined.select(
        pl.exclude("span_idx", "rs_idx", *keys, *[f"{k}__resource" for k in keys]),
        *[pl.coalesce(pl.col(k), pl.col(f"{k}__resource")).alias(k) for k in keys],
    )


_E = pl.element()
_SPAN_FIELDS = [
    _E.is_not_null().alias("span_present"),
    *[_E.struct.field(f) for f in ["traceId", "startTimeUnixNano", "endTimeUnixNano"]],
    _E.struct.field("status").struct.field("code").alias("code"),
]


def _key_value(attributes: pl.Expr, owner: str) -> list[pl.Expr]:
    """Per element, the list of its attributes' keys and the list of their values (every value kind as text),
    as `<owner>_key` and `<owner>_value`."""
    value = _E.struct.field("value")
    kinds = [value.struct.field(k) for k in ["stringValue", "intValue", "doubleValue", "boolValue"]]
    return [attributes.list.eval(_E.struct.field("key")).alias(f"{owner}_key"),
            attributes.list.eval(pl.coalesce(kinds)).alias(f"{owner}_value")]


def _kv_long(frame: pl.DataFrame, index: str, owner: str) -> pl.DataFrame:
    """(index, key, value) per attribute; an empty list leaves a row with a null key, which no check or pick
    reads (they take the wanted keys only)."""
    return frame.select(index, pl.col(f"{owner}_key").alias("key"), pl.col(f"{owner}_value").alias("value")).explode(
        "key", "value")


def _refuse_repeated(long: pl.DataFrame, owner: pl.DataFrame, index: str, keys: list[str], path: str) -> None:
    """An attribute aispend reads, set twice on one span (or resource), has no one value: refuse the line.

    Each (owner, key) pair is first coded as one integer: when they are all distinct, which one hash pass over
    integers tells, there is nothing to find."""
    picked = long.filter(pl.col("key").is_in(keys))
    pair = pl.col(index).cast(pl.UInt64) * len(keys) + pl.col("key").cast(pl.Enum(keys)).to_physical().cast(pl.UInt64)
    if picked.select(pair.n_unique()).item() == picked.height:
        return
    hit = long.filter(pl.col("key").is_in(keys) & (pl.len().over(index, "key") > 1)).head(1)
    if hit.height:
        key = hit["key"][0]
        line = owner.filter(pl.col(index) == hit[index][0])["line_no"][0]
        raise SourceError(path, f"attribute {key!r} is set twice on one span or resource (which value counts is "
                                "not guessed)", row=int(line), column=key, unit="line")


def _wide(long: pl.DataFrame, index: str, keys: list[str], owners: int) -> pl.DataFrame:
    """One text column per wanted attribute key, a row per owner (`index` 0 .. owners - 1). A key is set once
    (`_refuse_repeated`), so each key's values are placed by their owner's index: no pivot's grouping."""
    by_key = long.filter(pl.col("key").is_in(keys)).partition_by("key", as_dict=True)
    columns = {index: pl.int_range(0, owners, dtype=pl.UInt32, eager=True)}
    for key in keys:
        found = by_key.get((key,))
        if found is None:
            columns[key] = pl.repeat(None, owners, dtype=pl.String, eager=True)
            continue
        at = pl.repeat(None, owners, dtype=pl.UInt32, eager=True)
        columns[key] = found["value"].gather(at.scatter(found[index], pl.int_range(0, found.height, dtype=pl.UInt32,
                                                                                      eager=True)))
    return pl.DataFrame(columns)


def _flat_spans(lines: pl.DataFrame, keys: list[str], path: str) -> pl.DataFrame:
    attrs = pl.Struct({k: pl.String for k in keys})
    flat = pl.Struct(
        {
            "trace_id": pl.String,
            "context": pl.Struct({"trace_id": pl.String}),
            "start_time": pl.String,
            "end_time": pl.String,
            "attributes": attrs,
            "resource": pl.Struct({"attributes": attrs}),
            "status": pl.Struct({"status_code": pl.String, "code": pl.String}),
        }
    )
    rec = lines.select("line_no").with_columns(_decode(lines, flat, path).alias("r")).unnest("r")
    # The span's own fields too: a second `start_time` would be read as one of the two, silently.
    found = first_repeated_key(lines["line"], {"$": [f.name for f in flat.fields], "$.context": ["trace_id"],
                                               "$.status": ["status_code", "code"], "$.attributes": keys,
                                               "$.resource.attributes": keys})
    if found is not None:
        what = (f"attribute {found[1].rsplit('attributes.', 1)[-1]!r}" if "attributes." in found[1]
                else f"field {found[1]!r}")
        raise SourceError(path, f"{what} appears twice (which value counts is not guessed)",
                          row=int(lines["line_no"][found[0]]), column=found[1], unit="line")
    status = pl.coalesce(pl.col("status").struct.field("status_code"), pl.col("status").struct.field("code"))
    return rec.select(
        "line_no",
        pl.coalesce(pl.col("trace_id"), pl.col("context").struct.field("trace_id")).alias("trace_id"),
        parse_utc(pl.col("start_time")).alias("start_time"),
        parse_utc(pl.col("end_time")).alias("end_time"),
        pl.col("start_time").is_null().alias("start_missing"),
        pl.col("end_time").is_null().alias("end_missing"),
        status.str.to_uppercase().is_in(["ERROR", "STATUS_CODE_ERROR", "2"]).fill_null(False).alias("status_error"),
        *[
            pl.coalesce(
                pl.col("attributes").struct.field(k), pl.col("resource").struct.field("attributes").struct.field(k)
            ).alias(k)
            for k in keys
        ],
    )


def _nanos_to_utc(col: pl.Expr) -> pl.Expr:
    return col.str.strip_chars().cast(pl.Int64, strict=False).cast(pl.Datetime("ns")).cast(pl.Datetime("us"))


def _is_genai_call() -> pl.Expr:
    return pl.any_horizontal([pl.col(k).is_not_null() for k in [*PROVIDER, *MODEL]])


def _count(key: str) -> pl.Expr:
    """A token count as a float (integers beyond 2**53 do not occur); text or fractions become NaN-free nulls."""
    return pl.col(key).str.strip_chars().cast(pl.Float64, strict=False)


def _validate(spans: pl.DataFrame, path: str) -> None:
    """Refuse the first line failing the first check any line fails. Every check is reduced in one pass over the
    spans (with the counts parsed once, `_counts`); the line is looked for only when one fails."""
    checks = [
        (pl.col("start_missing"), "missing span start time", "start_time"),
        (pl.col("end_missing"), "missing span end time", "end_time"),
        (pl.col("start_time").is_null(), "unparseable span start time", "start_time"),
        (pl.col("end_time").is_null(), "unparseable span end time", "end_time"),
    ]
    for key in TOKEN_KEYS:
        checks.append((pl.col(key).is_not_null() & _parsed(key).is_null(), "token count is not a number", key))
        checks.append((TOKENS.bad(_parsed(key)), f"not {TOKENS.expected()}", key))
    failed = spans.select([bad.fill_null(False).any().alias(str(i)) for i, (bad, *_) in enumerate(checks)]).row(0)
    for (bad, reason, column), hit in zip(checks, failed):
        if hit:
            first = spans.filter(bad.fill_null(False)).head(1)
            raise SourceError(path, f"{reason}: {first[column][0]!r}", row=int(first["line_no"][0]), column=column,
                              unit="line")


def _counts() -> list[pl.Expr]:
    """Every token count's text as a float, parsed once for the checks and the event columns (`_parsed`)."""
    return [_count(key).alias(f"{key}__n") for key in TOKEN_KEYS]


def _parsed(key: str) -> pl.Expr:
    return pl.col(f"{key}__n")


def _tokens(keys: list[str] | str) -> pl.Expr:
    keys = [keys] if isinstance(keys, str) else keys
    return pl.coalesce([_parsed(k) for k in keys] + [pl.lit(0.0)]).cast(pl.Int64)


def _provider() -> pl.Expr:
    raw = pl.coalesce([pl.col(k) for k in PROVIDER]).str.strip_chars().str.to_lowercase()
    mapped = raw.replace(OTEL_PROVIDERS)
    return pl.coalesce(normalize_provider(mapped), pl.lit(UNKNOWN_PROVIDER))


def _event_columns(options: dict) -> list[pl.Expr]:
    total_input = _tokens(INPUT)
    cache_read = _tokens(CACHE_READ)
    cache_write = _tokens(CACHE_WRITE)
    outcome = pl.col(options["outcome_attribute"]).str.strip_chars().str.to_lowercase()
    batch = pl.col(options["batch_attribute"]).str.strip_chars().str.to_lowercase()
    raw_model = pl.coalesce([pl.col(k) for k in MODEL])
    error = pl.col("status_error") | pl.col(ERROR_TYPE).is_not_null()
    return [
        pl.col("start_time").alias("event_time"),
        _provider().alias("provider"),
        normalize_model(_provider(), raw_model).alias("model"),
        raw_model.alias("raw_model"),
        pl.coalesce(pl.col(options["task_attribute"]), pl.lit(UNATTRIBUTED)).alias("task"),
        pl.coalesce(pl.col(options["run_id_attribute"]), pl.col("trace_id")).alias("run_id"),
        pl.col(options["team_attribute"]).alias("team"),
        pl.coalesce([pl.col(k) for k in USER]).alias("user_id"),
        pl.col(options["project_attribute"]).alias("project"),
        blank_to_null(pl.col(options["work_item_attribute"])).alias("work_item_id"),
        pl.col(REQUEST_ID).alias("request_id"),
        pl.lit(1, pl.Int64).alias("request_count"),
        pl.max_horizontal(total_input - cache_read - cache_write, pl.lit(0, pl.Int64)).alias("input_tokens"),
        cache_read.alias("cache_read_tokens"),
        cache_write.alias("cache_write_tokens"),
        _tokens(OUTPUT).alias("output_tokens"),
        _tokens(REASONING).alias("reasoning_tokens"),
        batch.is_in(["true", "1", "yes"]).fill_null(False).alias("is_batch"),
        pl.when(error).then(pl.lit("error")).otherwise(pl.lit("ok")).alias("status"),
        pl.when(outcome.is_in(["success", "failure"])).then(outcome).alias("outcome"),
        ((pl.col("end_time") - pl.col("start_time")).dt.total_microseconds() / 1000.0).alias("latency_ms"),
    ]


SPEC = SourceSpec(
    kind="otel_genai",
    table="usage_events",
    summary="OpenTelemetry GenAI spans, old and new attribute names",
    doc="docs/sources/usage_logs.md",
    options=OtelOptions,
    read=read,
)
