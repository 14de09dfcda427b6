"""Codex CLI's local session logs ("rollouts") into usage_events: one row per model call, never a prompt.

Where they are: `~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<session id>.jsonl` (`$CODEX_HOME/sessions` when
CODEX_HOME is set), one file per session, dated by the folder it starts in. Lines are `{timestamp, type,
payload}`; docs/sources/coding_agents.md lists the fields and traps.

A call is an `event_msg` line whose `payload.type` is `token_count` and whose `payload.info` is not null. Its
tokens are `info.last_token_usage` (this call) or, when that is absent, the difference between its
`info.total_token_usage` (cumulative for the session) and the previous one's. An event whose cumulative total
equals the previous one is the same call reported again: skipped. `input_tokens` INCLUDES
`cached_input_tokens`, so uncached input is their difference; `output_tokens` already INCLUDES
`reasoning_output_tokens` (kept apart in `reasoning_tokens`, never added again). Codex reports no cache writes.

The model is the event's own (`info.model` or `payload.model`) or else the latest `turn_context` before it (or
the `session_meta`). The session id (`session_meta`'s `payload.id`, else the id in the file name) is the run;
the project is the last folder of the session's `cwd`. Timestamps are UTC.
"""

from __future__ import annotations

import re

import polars as pl

from pipelines.config import SourceConfig
from pipelines.models import normalize_model, normalize_provider
from pipelines.schemas import USAGE_EVENTS, conform
from pipelines.sources.agent_logs import (
    AgentLogOptions,
    S,
    attribution,
    count_checks,
    count,
    project_from_cwd,
    refuse,
    time_checks,
    usage_lines,
)
from pipelines.sources.common import blank_to_null, parse_utc, per_file
from pipelines.sources.spec import ISO_DAY, SLASHED_DAY, SourceSpec

USAGE_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")
_USAGE = pl.Struct({f: S for f in USAGE_FIELDS})
# The fields kept of a line. No content, instructions or tool output: never decoded.
LINE = pl.Struct({
    "timestamp": S,
    "type": S,
    "payload": pl.Struct({
        "type": S,
        "id": S,
        "cwd": S,
        "model": S,
        "model_provider": S,
        "info": pl.Struct({"model": S, "total_token_usage": _USAGE, "last_token_usage": _USAGE}),
    }),
})
_CONTEXT = ("session_meta", "turn_context")
_CARRIES = r'"type"\s*:\s*"(?:token_count|turn_context|session_meta)"'
_SESSION_IN_NAME = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\.jsonl")
_TOTAL, _LAST = "__total", "__last"


def _payload(field: str) -> pl.Expr:
    return pl.col("payload").struct.field(field)


def _usage(which: str, field: str) -> pl.Expr:
    return _payload("info").struct.field(which).struct.field(field)


def read(path: str, source: SourceConfig, data: bytes | None = None) -> pl.DataFrame:
    return _read([(path, data)], source)[0]


def read_many(files: list[tuple[str, bytes]], source: SourceConfig) -> list[pl.DataFrame]:
    """Several small session files read as one, the frame `read` gives for each: one decode, one repeated-key
    query and one pass of checks for them all, where reading each alone cost about 50 ms of fixed work (a
    person's Codex history is thousands of files of a few calls; bench/README.md, "Codex sessions read
    together"). Any fault raises, and each file is then read alone, which names it."""
    return _read(files, source)


def _read(files: list[tuple[str, bytes | None]], source: SourceConfig) -> list[pl.DataFrame]:
    decoded = usage_lines(files, _CARRIES, LINE)
    found = with_context(decoded.lazy(), [path for path, _ in files]).filter(
        (pl.col("type") == "event_msg") & (_payload("type") == "token_count") & _payload("info").is_not_null()
    ).collect()
    counts = {f"payload.info.{which}.{f}": _usage(which, f)
              for which in ("total_token_usage", "last_token_usage") for f in USAGE_FIELDS}
    refuse(found, [*time_checks(pl.col("timestamp")), *count_checks(counts)])
    events = calls(found.lazy()).with_columns(_event_columns(source.options)).with_columns(
        pl.lit(source.name).alias("x_source"), pl.col("__path").alias("x_source_file")).collect()
    return per_file(conform(events, USAGE_EVENTS), events["__file"], len(files))


def with_context(decoded: pl.LazyFrame, paths: list[str]) -> pl.LazyFrame:
    """Each line with its session's id, cwd, model and model provider as known at that line (forward-filled
    from session_meta and turn_context lines within its file, `__file` indexing `paths`)."""
    is_context = pl.col("type").is_in(_CONTEXT)
    named = {i: m[1] for i, path in enumerate(paths)
             if (m := _SESSION_IN_NAME.search(path.replace("\\", "/").rsplit("/", 1)[-1]))}

    def known(field: str, when: pl.Expr = is_context) -> pl.Expr:
        return pl.when(when).then(blank_to_null(_payload(field))).forward_fill().over("__file")

    return decoded.with_columns(
        pl.coalesce(known("id", pl.col("type") == "session_meta"),
                    pl.col("__file").replace_strict(named, default=None, return_dtype=S))
        .alias("__session"),
        known("cwd").alias("__cwd"),
        known("model").alias("__context_model"),
        known("model_provider").alias("__model_provider"),
    )


def calls(found: pl.LazyFrame) -> pl.LazyFrame:
    """The token_count events (in file order, each file's `__file` apart) that are calls, each with its own
    tokens (`__input_tokens`, `__cached_input_tokens`, ...): this call's usage, or the growth of the session's
    total since the event before it in its file. An event repeating the previous cumulative total is dropped."""
    total = {f: count(_usage("total_token_usage", f)) for f in USAGE_FIELDS}
    last = {f: count(_usage("last_token_usage", f)) for f in USAGE_FIELDS}
    has_total = _usage("total_token_usage", "total_tokens").is_not_null() | _usage(
        "total_token_usage", "input_tokens").is_not_null()
    has_last = _payload("info").struct.field("last_token_usage").is_not_null()
    framed = found.with_columns(
        *(pl.when(has_total).then(v.fill_null(0)).alias(f"{_TOTAL}{f}") for f, v in total.items()),
        *(pl.when(has_last).then(v.fill_null(0)).alias(f"{_LAST}{f}") for f, v in last.items()),
        has_last.alias("__has_last"),
    )
    # The previous cumulative total of the session (events without one are skipped over).
    previous = {f: pl.col(f"{_TOTAL}{f}").shift(1).forward_fill().over("__file") for f in USAGE_FIELDS}
    # Rows with no total have nothing to compare: never a repeat.
    repeat = pl.all_horizontal(*((pl.col(f"{_TOTAL}{f}") == previous[f]) for f in USAGE_FIELDS)).fill_null(False)

    def own(field: str) -> pl.Expr:
        grown = (pl.col(f"{_TOTAL}{field}") - previous[field].fill_null(0)).clip(lower_bound=0)
        return pl.when(pl.col("__has_last")).then(pl.col(f"{_LAST}{field}")).otherwise(grown).fill_null(0)

    return framed.with_columns(repeat.alias("__repeat"), *(own(f).alias(f"__{f}") for f in USAGE_FIELDS)).filter(
        ~pl.col("__repeat") & ((pl.col("__input_tokens") > 0) | (pl.col("__output_tokens") > 0)))


def _event_columns(options: AgentLogOptions) -> list[pl.Expr]:
    provider = normalize_provider(pl.coalesce(pl.col("__model_provider"), pl.lit("openai")))
    raw_model = pl.coalesce(blank_to_null(_payload("info").struct.field("model")), blank_to_null(_payload("model")),
                            pl.col("__context_model"))
    cached = pl.min_horizontal(pl.col("__cached_input_tokens"), pl.col("__input_tokens"))
    return [
        parse_utc(pl.col("timestamp")).alias("event_time"),
        provider.alias("provider"),
        normalize_model(provider, raw_model).alias("model"),
        raw_model.alias("raw_model"),
        *attribution(options),
        pl.col("__session").alias("run_id"),
        project_from_cwd(pl.col("__cwd")).alias("project"),
        pl.lit(1, pl.Int64).alias("request_count"),
        (pl.col("__input_tokens") - cached).cast(pl.Int64).alias("input_tokens"),  # input includes cached
        cached.cast(pl.Int64).alias("cache_read_tokens"),
        pl.lit(0, pl.Int64).alias("cache_write_tokens"),
        pl.col("__output_tokens").cast(pl.Int64).alias("output_tokens"),  # already includes reasoning
        pl.min_horizontal(pl.col("__reasoning_output_tokens"), pl.col("__output_tokens")).cast(pl.Int64)
        .alias("reasoning_tokens"),
        pl.lit(False).alias("is_batch"),
        pl.lit("ok").alias("status"),
    ]


SPEC = SourceSpec(
    kind="codex_logs",
    table="usage_events",
    summary="Codex CLI's local session logs (token_count events), each call once; no prompt is stored",
    doc="docs/sources/coding_agents.md",
    options=AgentLogOptions,
    read=read,
    read_many=read_many,
    path_dates=(SLASHED_DAY, ISO_DAY),  # sessions/YYYY/MM/DD/rollout-YYYY-MM-DDT...: the day a session started
)
