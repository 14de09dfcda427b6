"""LiteLLM proxy spend logs (an export of the `LiteLLM_SpendLogs` table) into usage_events, one row per request.

Accepted files: CSV (psql `\\copy ... CSV HEADER`, or a database tool's export), a JSON array, or JSON lines;
the shape is detected from the first character. Column names match case-insensitively (`startTime` or
`starttime`). Only the columns below are read: `api_key` (a hash of the caller's key), `spend` (LiteLLM's own
estimate, not invoice data: aispend prices requests itself), and `messages` / `response` / `proxy_server_request`
(prompt and completion text when LiteLLM stores them) are never loaded.

Token accounting: LiteLLM reports usage OpenAI-style, so `prompt_tokens` INCLUDES cached input. For Anthropic
and Bedrock models LiteLLM adds both the cache reads and the cache writes into `prompt_tokens` (current
versions; set option `prompt_tokens_include_cache_write: false` for versions that added reads only). The cache
counts sit in `metadata.usage_object` (`cache_read_input_tokens` or `prompt_tokens_details.cached_tokens`,
`cache_creation_input_tokens`); usage_events.input_tokens = prompt_tokens - cache read - cache write, floored
at 0. Without a usage object (older LiteLLM), nothing is known about caching and all input counts as uncached.
`cache_hit` "True" means LiteLLM's own response cache answered and no provider was called: the request is kept
with zero tokens.

`metadata` and `request_tags` are JSON, sometimes double-encoded (a JSON string holding JSON): both forms work.
The task comes from a request tag `task:<name>` (option `task_tag_prefix`), else from the `task_key` of
`metadata.spend_logs_metadata` or `metadata.requester_metadata`; `run_id_key`, `outcome_key`, `team_key` and
`project_key` are read there too. The work item a request served (docs/evidence.md) comes from a tag
`work_item:<id>` (option `work_item_tag_prefix`), else the metadata key `work_item_key`. Team falls back to LiteLLM's team alias, then `team_id`. Rows are numbered
from 1, header excluded.
"""

from __future__ import annotations

import duckdb
import polars as pl
from pydantic import Field, StrictBool

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.models import normalize_model, normalize_provider
from pipelines.schemas import UNATTRIBUTED, USAGE_EVENTS, conform
from pipelines.sources.spec import FileOptions, SourceSpec
from pipelines.sources.bounds import TOKENS, refuse_bad_values
from pipelines.sources.common import (
    MISWRITTEN, array_items, blank_to_null, csv_header, json_decoded, nested_as_written, parse_utc, read_bytes,
    read_csv_text, utf8,
)

COLUMNS = [
    "request_id", "call_type", "prompt_tokens", "completion_tokens", "startTime", "endTime", "model",
    "model_group", "custom_llm_provider", "user", "team_id", "end_user", "status", "metadata", "cache_hit",
    "request_tags",
]
REQUIRED = ["startTime", "model", "prompt_tokens", "completion_tokens"]
_KEY = r"^\S+$"


class LitellmOptions(FileOptions):
    """Where aispend's tags sit in LiteLLM's request tags and metadata, and how its prompt_tokens count cache."""

    task_tag_prefix: str = Field(default="task:", min_length=1)
    task_key: str = Field(default="task", pattern=_KEY)
    run_id_key: str = Field(default="run_id", pattern=_KEY)
    outcome_key: str = Field(default="outcome", pattern=_KEY)
    team_key: str = Field(default="team", pattern=_KEY)
    project_key: str = Field(default="project", pattern=_KEY)
    work_item_tag_prefix: str = Field(default="work_item:", min_length=1)
    work_item_key: str = Field(default="work_item", pattern=_KEY)
    prompt_tokens_include_cache_write: StrictBool = True
# The field a usage_events column is read from, to name it when its value is out of bounds.
FIELD_OF = {"event_time": "startTime", "latency_ms": "endTime", "input_tokens": "prompt_tokens",
            "output_tokens": "completion_tokens", "cache_read_tokens": "metadata", "cache_write_tokens": "metadata",
            "reasoning_tokens": "metadata"}
STATUS = {"success": "ok", "ok": "ok", "failure": "error", "error": "error", "failed": "error"}
UNKNOWN_PROVIDER = "unknown"
# The caller's own keys live in these metadata objects; the first that names a key wins.
CALLER_METADATA = ["spend_logs_metadata", "requester_metadata"]


def read(path: str, source: SourceConfig, data: bytes | None = None) -> pl.DataFrame:
    options = source.options.model_dump(exclude=set(FileOptions.model_fields))  # the kind's own keys
    frame = _load(path, data).with_columns(
        _unwrapped(pl.col("metadata")).alias("metadata"), _unwrapped(pl.col("request_tags")).alias("request_tags")
    )
    frame = pl.concat([frame, _metadata_fields(frame, path, options)], how="horizontal")
    frame = frame.with_columns(_numbers()).with_columns(_parsed_columns(options))
    _validate(frame, path)
    frame = frame.with_columns(_tags(frame, path))
    events = frame.lazy().with_columns(_event_columns(options))
    events = events.with_columns(pl.lit(source.name).alias("x_source"), pl.lit(path).alias("x_source_file"))
    out = conform(events, USAGE_EVENTS).collect()
    refuse_bad_values(out, "usage_events", path, names=FIELD_OF)
    return out


def _load(path: str, data: bytes | None) -> pl.DataFrame:
    """Every wanted column as text, in file order; absent optional columns are all null."""
    raw = read_bytes(path, data)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = utf8(path, raw)  # invalid UTF-8 is named by its line, not mistaken for a broken row
    head = raw.lstrip()[:1]
    if head == b"[":
        frame = _json_array(path, raw)
    elif head == b"{":
        frame = _json_lines(path, raw)
    else:
        frame = _csv(path, raw, text)
    return frame.select([pl.col(c) if c in frame.columns else pl.lit(None, pl.String).alias(c) for c in COLUMNS])


def _schema() -> dict[str, pl.DataType]:
    # Every field as text: numbers arrive as "12", nested objects and lists as their JSON text.
    return {c: pl.String for c in COLUMNS}


def _json_lines(path: str, raw: bytes) -> pl.DataFrame:
    lines = pl.Series(raw.decode("utf-8", errors="replace").split("\n")).str.strip_chars()
    lines = lines.filter(lines != "")
    try:
        return nested_as_written(pl.read_ndjson(raw, schema=_schema()), lines)
    except pl.exceptions.PolarsError:  # Polars' message quotes the line; name the line instead
        pass
    bad = (lines.str.json_path_match("$").is_null() | ~lines.str.starts_with("{")).arg_true()
    row = int(bad[0]) + 1 if bad.len() else None
    raise SourceError(path, "not a JSON object per line (JSON lines)", row=row)


def _json_array(path: str, raw: bytes) -> pl.DataFrame:
    """A JSON array: DuckDB hands each record over as JSON text, read as JSON lines."""
    try:
        texts = array_items(raw.decode("utf-8", errors="replace"))
        texts = texts.filter(texts != "null")
        if texts.len() == 0:
            return pl.DataFrame(schema=_schema())
        if not texts.str.starts_with("{").all():
            row = int((~texts.str.starts_with("{")).arg_true()[0]) + 1
            raise SourceError(path, "array element is not a JSON object", row=row)
        return nested_as_written(pl.read_ndjson(texts.str.join("\n")[0].encode(), schema=_schema()), texts)
    except (pl.exceptions.PolarsError, duckdb.Error):  # their messages quote the input
        raise SourceError(path, "not valid JSON (expected an array of spend log records)") from None


def _csv(path: str, raw: bytes, text: str) -> pl.DataFrame:
    header = csv_header(path, text)
    by_lower = {name.strip().lower(): name for name in header}
    wanted = {by_lower[c.lower()]: c for c in COLUMNS if c.lower() in by_lower}
    missing = [c for c in REQUIRED if c.lower() not in by_lower]
    if missing:
        raise SourceError(path, f"missing required column(s): {', '.join(missing)}", column=missing[0])
    known = {c.lower() for c in COLUMNS}
    frame = read_csv_text(path, raw, null_values=None, columns=list(wanted), text=text,
                          canonical=lambda h: h.strip().lower() if h.strip().lower() in known else None)
    return frame.rename(wanted)


def _unwrapped(col: pl.Expr) -> pl.Expr:
    """JSON text, undoing up to two levels of encoding as a JSON string (`"{\\"a\\": 1}"`)."""
    text = blank_to_null(col)
    for _ in range(2):
        text = pl.when(text.str.starts_with('"')).then(text.str.json_path_match("$")).otherwise(text)
    return text


def _first_bad(frame: pl.DataFrame, bad: pl.Expr) -> int | None:
    hits = frame.select(bad.fill_null(False).arg_true().first()).item()
    return None if hits is None else int(hits) + 1


def _refuse(frame: pl.DataFrame, bad: pl.Expr, path: str, reason: str, column: str, show: bool = False) -> None:
    row = _first_bad(frame, bad)
    if row is not None:
        shown = f": {str(frame[column][row - 1])[:40]!r}" if show else ""
        raise SourceError(path, f"{reason}{shown}", row=row, column=column)


def _count(col: pl.Expr) -> pl.Expr:
    return blank_to_null(col).cast(pl.Float64, strict=False)


def _json_objects(texts: pl.Series, fields: list[str]) -> pl.DataFrame:
    """Chosen fields of JSON objects, one row per text, every value as text (nested objects as their JSON).

    Decoded in one Polars pass (JSON lines), not one JSONPath scan per field: a spend log of 100k rows would
    otherwise parse its metadata twenty times. Null or non-object texts give a row of nulls."""
    schema = {f: pl.String for f in fields}
    if texts.len() == 0:
        return pl.DataFrame(schema=schema)
    if texts.null_count() == texts.len():  # e.g. no row has requester_metadata: nothing to decode
        return pl.DataFrame({f: pl.repeat(None, texts.len(), dtype=pl.String, eager=True) for f in fields})
    return nested_as_written(_ndjson(texts, schema), texts)


def _ndjson(texts: pl.Series, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A row per text, read with `schema` in one Polars pass as JSON lines; a null or non-object text reads as
    `{}`, a row of nulls. A nested object or list read as text comes back as its JSON (`_json_objects` decodes
    it again), where `str.json_decode` would refuse it."""
    lines = pl.select(_objects(texts).str.replace_all("[\r\n]", " ").str.join("\n")).item()
    return pl.read_ndjson(lines.encode(), schema=schema)


def _objects(texts: pl.Series) -> pl.Series:
    return pl.select(pl.when(texts.str.starts_with("{")).then(texts).otherwise(pl.lit("{}"))).to_series()


def _metadata_fields(frame: pl.DataFrame, path: str, options: dict) -> pl.DataFrame:
    """The metadata values aispend uses, as columns: `meta_*` LiteLLM's own, `usage_*` the usage object's
    counts, `caller_<n>_<key>` the caller's keys from each of CALLER_METADATA."""
    meta = frame["metadata"]
    row = _first_bad(frame, meta.is_not_null() & ~meta.str.starts_with("{"))
    if row is not None:
        raise SourceError(path, "not a JSON object", row=row, column="metadata")
    try:
        return _decode_metadata(meta, options)
    except pl.exceptions.PolarsError:  # error path only: find the row (Polars' message would quote it)
        row = _first_bad(frame, meta.is_not_null() & meta.str.json_path_match("$").is_null())
        reason = "not valid JSON" if row is not None else "holds a nested JSON string that is not valid JSON"
        raise SourceError(path, reason, row=row, column="metadata") from None


def _decode_metadata(meta: pl.Series, options: dict) -> pl.DataFrame:
    keys = list(dict.fromkeys(options[k] for k in ("task_key", "run_id_key", "outcome_key", "team_key", "project_key",
                                                   "work_item_key")))
    at_once = _metadata_at_once(meta, keys)
    if at_once is not None:
        return at_once
    top = _json_objects(meta, ["usage_object", "status", "user_api_key_team_alias", *CALLER_METADATA])
    usage = _json_objects(_unwrap_series(top["usage_object"]), [
        "cache_read_input_tokens", "cache_creation_input_tokens", "prompt_tokens_details", "completion_tokens_details"])
    prompt_details = _json_objects(usage["prompt_tokens_details"], ["cached_tokens", "cache_creation_tokens"])
    completion_details = _json_objects(usage["completion_tokens_details"], ["reasoning_tokens"])
    caller = [
        _json_objects(_unwrap_series(top[m]), keys).rename({k: f"caller_{n}_{k}" for k in keys})
        for n, m in enumerate(CALLER_METADATA)
    ]
    return pl.concat(
        [
            pl.DataFrame({
                "meta_status": top["status"],
                "meta_team_alias": top["user_api_key_team_alias"],
                "usage_cache_read": usage["cache_read_input_tokens"],
                "usage_cache_write": usage["cache_creation_input_tokens"],
                "usage_cached": prompt_details["cached_tokens"],
                "usage_cache_write_details": prompt_details["cache_creation_tokens"],
                "usage_reasoning": completion_details["reasoning_tokens"],
            }),
            *caller,
        ],
        how="horizontal",
    )


_S = pl.String
_USAGE = pl.Struct({
    "cache_read_input_tokens": _S, "cache_creation_input_tokens": _S,
    "prompt_tokens_details": pl.Struct({"cached_tokens": _S, "cache_creation_tokens": _S}),
    "completion_tokens_details": pl.Struct({"reasoning_tokens": _S}),
})


def _metadata_at_once(meta: pl.Series, keys: list[str]) -> pl.DataFrame | None:
    """`_decode_metadata`'s columns from one pass with the nesting in the schema, when every row allows it: an
    object wherever one is expected (a JSON string holding JSON, or any other value there, fails the pass) and no
    escape Polars writes back wrong (`nested_as_written`). Else None, and each level is decoded from the text the
    level above gave, as before: that took 1.0 s of the 2.0 s a day's spend log of 214k rows took to read."""
    if meta.len() == 0 or meta.null_count() == meta.len() or meta.str.contains(MISWRITTEN).any():
        return None
    schema = {"usage_object": _USAGE, "status": _S, "user_api_key_team_alias": _S,
              **{m: pl.Struct({k: _S for k in keys}) for m in CALLER_METADATA}}
    try:  # in pieces on every core: a day's 21k rows in 0.011 s, against 0.032 s as one read of JSON lines
        decoded = json_decoded(_objects(meta), pl.Struct(schema)).struct.unnest()
    except pl.exceptions.PolarsError:  # e.g. an object where text is wanted: each level as before
        return None
    usage = decoded["usage_object"].struct
    return pl.DataFrame({
        "meta_status": decoded["status"],
        "meta_team_alias": decoded["user_api_key_team_alias"],
        "usage_cache_read": usage.field("cache_read_input_tokens"),
        "usage_cache_write": usage.field("cache_creation_input_tokens"),
        "usage_cached": usage.field("prompt_tokens_details").struct.field("cached_tokens"),
        "usage_cache_write_details": usage.field("prompt_tokens_details").struct.field("cache_creation_tokens"),
        "usage_reasoning": usage.field("completion_tokens_details").struct.field("reasoning_tokens"),
        **{f"caller_{n}_{k}": decoded[m].struct.field(k) for n, m in enumerate(CALLER_METADATA) for k in keys},
    })


def _unwrap_series(texts: pl.Series) -> pl.Series:
    return pl.select(_unwrapped(pl.lit(texts))).to_series()


USAGE_COUNTS = ["usage_cache_read", "usage_cache_write", "usage_cached", "usage_cache_write_details", "usage_reasoning"]
NUMBERS = ["prompt_tokens", "completion_tokens", *USAGE_COUNTS]


def _numbers() -> list[pl.Expr]:
    """Every count's text as a float, parsed once for the checks and the event columns (`_number`)."""
    return [_count(pl.col(name)).alias(f"{name}__n") for name in NUMBERS]


def _number(name: str) -> pl.Expr:
    return pl.col(f"{name}__n")


def _validate(frame: pl.DataFrame, path: str) -> None:
    """Refuse the first row failing the first check that any row fails, in `_checks` order. Every check is
    reduced in one pass; the row is looked for only when one fails."""
    checks = _checks()
    failed = frame.select([bad.fill_null(False).any().alias(str(i)) for i, (bad, *_) in enumerate(checks)]).row(0)
    for (bad, reason, column, show), hit in zip(checks, failed):
        if hit:
            _refuse(frame, bad, path, reason, column, show)


def _checks() -> list[tuple[pl.Expr, str, str, bool]]:
    """(bad, reason, column, show the value) per check, in the order a file's faults are reported."""
    end_given = blank_to_null(pl.col("endTime")).is_not_null()
    out = [
        (blank_to_null(pl.col("startTime")).is_null(), "missing start time", "startTime", False),
        (pl.col("start").is_null(), "not a timestamp", "startTime", True),
        (end_given & pl.col("end").is_null(), "not a timestamp", "endTime", True),
    ]
    for name in ["prompt_tokens", "completion_tokens"]:
        value = _number(name)
        out.append((blank_to_null(pl.col(name)).is_not_null() & value.is_null(), "not a number", name, True))
        out.append((TOKENS.bad(value), f"not {TOKENS.expected()}", name, True))
    status = blank_to_null(pl.col("status")).str.to_lowercase()
    out.append((status.is_not_null() & ~status.is_in(list(STATUS)),
                f"unknown status (expected one of {', '.join(STATUS)})", "status", True))
    tags = pl.col("request_tags")
    out.append((tags.is_not_null() & ~tags.str.starts_with("["), "not a JSON list", "request_tags", False))
    for name in USAGE_COUNTS:
        value = _number(name)
        bad = pl.col(name).is_not_null() & (value.is_null() | TOKENS.bad(value))
        out.append((bad, f"usage_object: {name[len('usage_'):]} is not {TOKENS.expected()}", "metadata", False))
    return out


def _tags(frame: pl.DataFrame, path: str) -> pl.Series:
    try:
        return frame["request_tags"].str.json_decode(pl.List(pl.String)).alias("tag_list")
    except pl.exceptions.PolarsError:
        pass
    tags = pl.col("request_tags")
    row = _first_bad(frame, tags.is_not_null() & tags.str.json_path_match("$").is_null())
    if row is not None:
        raise SourceError(path, "not a JSON list", row=row, column="request_tags")
    for index, text in enumerate(frame["request_tags"].to_list()):  # error path only: find the row
        try:
            pl.Series([text]).str.json_decode(pl.List(pl.String))
        except pl.exceptions.PolarsError:
            row = index + 1
            break
    raise SourceError(path, "request tags must be a list of texts", row=row, column="request_tags")


def _caller_value(key: str) -> pl.Expr:
    return pl.coalesce([blank_to_null(pl.col(f"caller_{n}_{key}")) for n in range(len(CALLER_METADATA))])


def _tag_value(prefix: str) -> pl.Expr:
    """The text after `prefix` of the first request tag that starts with it."""
    found = pl.col("tag_list").list.eval(
        pl.element().filter(pl.element().str.starts_with(prefix)).str.slice(len(prefix))
    )
    return blank_to_null(found.list.first())


def _parsed_columns(options: dict) -> list[pl.Expr]:
    cache_read = pl.coalesce(_number("usage_cache_read"), _number("usage_cached"), pl.lit(0.0))
    cache_write = pl.coalesce(
        _number("usage_cache_write"), _number("usage_cache_write_details"), pl.lit(0.0)
    )
    hit = blank_to_null(pl.col("cache_hit")).str.to_lowercase().is_in(["true", "1", "yes"]).fill_null(False)
    return [
        parse_utc(pl.col("startTime")).alias("start"),
        parse_utc(blank_to_null(pl.col("endTime"))).alias("end"),
        hit.alias("proxy_cache_hit"),
        pl.coalesce(_number("prompt_tokens"), pl.lit(0.0)).alias("prompt"),
        pl.coalesce(_number("completion_tokens"), pl.lit(0.0)).alias("completion"),
        cache_read.alias("cache_read"),
        (cache_write if options["prompt_tokens_include_cache_write"] else pl.lit(0.0)).alias("write_in_prompt"),
        cache_write.alias("cache_write"),
        pl.coalesce(_number("usage_reasoning"), pl.lit(0.0)).alias("reasoning"),
        pl.coalesce(blank_to_null(pl.col("model")), blank_to_null(pl.col("model_group"))).alias("raw"),
    ]


def _provider() -> pl.Expr:
    logged = blank_to_null(pl.col("custom_llm_provider"))
    from_model = pl.when(pl.col("raw").str.contains("/", literal=True)).then(pl.col("raw").str.extract(r"^([^/]+)/", 1))
    return pl.coalesce(normalize_provider(pl.coalesce(logged, from_model)), pl.lit(UNKNOWN_PROVIDER))


def _tokens(value: pl.Expr) -> pl.Expr:
    """A count that a proxy cache hit zeroes: the provider was never called."""
    return pl.when(pl.col("proxy_cache_hit")).then(pl.lit(0)).otherwise(value.cast(pl.Int64))


def _event_columns(options: dict) -> list[pl.Expr]:
    uncached = pl.max_horizontal(pl.col("prompt") - pl.col("cache_read") - pl.col("write_in_prompt"), pl.lit(0.0))
    outcome = _caller_value(options["outcome_key"]).str.to_lowercase()
    status = pl.coalesce(blank_to_null(pl.col("status")), blank_to_null(pl.col("meta_status")))
    latency = (pl.col("end") - pl.col("start")).dt.total_microseconds() / 1000.0
    return [
        pl.col("start").alias("event_time"),
        _provider().alias("provider"),
        normalize_model(_provider(), pl.col("raw")).alias("model"),
        pl.col("raw").alias("raw_model"),
        pl.coalesce(_tag_value(options["task_tag_prefix"]), _caller_value(options["task_key"]),
                    pl.lit(UNATTRIBUTED)).alias("task"),
        _caller_value(options["run_id_key"]).alias("run_id"),
        pl.coalesce(_caller_value(options["team_key"]),
                    blank_to_null(pl.col("meta_team_alias")),
                    blank_to_null(pl.col("team_id"))).alias("team"),
        pl.coalesce(blank_to_null(pl.col("user")), blank_to_null(pl.col("end_user"))).alias("user_id"),
        _caller_value(options["project_key"]).alias("project"),
        pl.coalesce(_tag_value(options["work_item_tag_prefix"]), _caller_value(options["work_item_key"]))
        .alias("work_item_id"),
        blank_to_null(pl.col("request_id")).alias("request_id"),
        pl.lit(1, pl.Int64).alias("request_count"),
        _tokens(uncached).alias("input_tokens"),
        _tokens(pl.col("cache_read")).alias("cache_read_tokens"),
        _tokens(pl.col("cache_write")).alias("cache_write_tokens"),
        _tokens(pl.col("completion")).alias("output_tokens"),
        _tokens(pl.col("reasoning")).alias("reasoning_tokens"),
        pl.lit(False).alias("is_batch"),
        status.str.to_lowercase().replace_strict(STATUS, default="ok").alias("status"),
        pl.when(outcome.is_in(["success", "failure"])).then(outcome).alias("outcome"),
        pl.when(latency >= 0).then(latency).alias("latency_ms"),
    ]


SPEC = SourceSpec(
    kind="litellm_spend",
    table="usage_events",
    summary="LiteLLM_SpendLogs exports, CSV or JSON",
    doc="docs/sources/usage_logs.md",
    options=LitellmOptions,
    read=read,
)
