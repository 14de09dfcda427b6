"""Claude Code's local session logs into usage_events: one row per API response, never a prompt.

Where they are: `~/.claude/projects/<project folder>/<session id>.jsonl` (the folder is the working directory
with `/` turned into `-`), and each session's sub-agents under `<session id>/subagents/*.jsonl`. Only
`assistant` lines with `message.usage` cost money; docs/sources/coding_agents.md lists the fields and traps.

The unit is a project folder: every session file in it, with its sub-agent files (and side-chain files that
older versions kept beside the sessions). Counting each API response once needs every file that can repeat it
in one unit: streaming writes the same `message.id` on several lines (earlier ones with a partial
`output_tokens` and no `stop_reason`), and a sub-agent file can repeat entries of its parent session. Of the
lines of one `message.id` the completed one (with `stop_reason`) is kept, else the last. A project unit's rows
are replaced whole when any of its files changes, so a re-run replaces exactly what it wrote.

Token accounting: Anthropic's `input_tokens` already excludes cache reads and writes (the four counts are
disjoint, as usage_events wants them). `cache_creation_input_tokens` is every cache write;
`cache_creation.ephemeral_1h_input_tokens`, when present, the 1-hour part of it (priced at 2x input, the rest at
1.25x: migration 0030). `<synthetic>` messages are Claude Code's own placeholders, not API calls: skipped.
Timestamps are UTC. The session id is the run (`run_id`); the project is the last folder of `cwd`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import PurePosixPath

import polars as pl

from pipelines.config import AispendConfig, SourceConfig
from pipelines.models import normalize_model
from pipelines.schemas import USAGE_EVENTS, conform
from pipelines.sources.agent_logs import (
    AgentLogOptions,
    S,
    attribution,
    count_checks,
    project_from_cwd,
    refuse,
    time_checks,
    tokens,
    usage_lines,
)
from pipelines.sources.common import blank_to_null, parse_utc
from pipelines.sources.spec import SourceSpec
from pipelines.sources.units import Unit, relative_key, source_root
from pipelines.storage import StoredObject, storage_for

SYNTHETIC = "<synthetic>"
SUBAGENTS = "subagents"
_USAGE = pl.Struct({
    "input_tokens": S,
    "cache_creation_input_tokens": S,
    "cache_read_input_tokens": S,
    "output_tokens": S,
    "service_tier": S,
    "cache_creation": pl.Struct({"ephemeral_5m_input_tokens": S, "ephemeral_1h_input_tokens": S}),
})
# The fields kept of an assistant line. No `content`: the message text and tool calls are never decoded.
LINE = pl.Struct({
    "type": S,
    "timestamp": S,
    "sessionId": S,
    "cwd": S,
    "requestId": S,
    "message": pl.Struct({"id": S, "model": S, "stop_reason": S, "usage": _USAGE}),
})
_ASSISTANT = r'"type"\s*:\s*"assistant"'


def _usage(field: str) -> pl.Expr:
    return pl.col("message").struct.field("usage").struct.field(field)


def _cache(field: str) -> pl.Expr:
    return _usage("cache_creation").struct.field(field)


COUNTS = {
    "message.usage.input_tokens": _usage("input_tokens"),
    "message.usage.cache_creation_input_tokens": _usage("cache_creation_input_tokens"),
    "message.usage.cache_read_input_tokens": _usage("cache_read_input_tokens"),
    "message.usage.output_tokens": _usage("output_tokens"),
    "message.usage.cache_creation.ephemeral_5m_input_tokens": _cache("ephemeral_5m_input_tokens"),
    "message.usage.cache_creation.ephemeral_1h_input_tokens": _cache("ephemeral_1h_input_tokens"),
}


def _message(field: str) -> pl.Expr:
    return pl.col("message").struct.field(field)


def responses(files: Iterable[tuple[str, bytes | None]]) -> pl.DataFrame:
    """The assistant lines of the files that report usage, decoded and checked, with `__file` and `line`."""
    found = usage_lines(files, _ASSISTANT, LINE).filter(
        (pl.col("type") == "assistant") & _message("usage").is_not_null()
        & (_message("model").fill_null("") != SYNTHETIC)
    )
    refuse(found, [*time_checks(pl.col("timestamp")), *count_checks(COUNTS)])
    return found


def read_project(files: Iterable[tuple[str, bytes | None]], source: SourceConfig) -> pl.DataFrame:
    """usage_events of one project: every (location, bytes) of its sessions and sub-agents in path order (a
    session's own file before its sub-agents', `x.jsonl` < `x/...`), each API response once. `files` is read as
    it is iterated, a batch of them held at a time (`agent_logs.usage_lines`)."""
    found = responses(files)
    return conform(one_per_response(found).with_columns(_event_columns(source.options)).with_columns(
        pl.lit(source.name).alias("x_source")), USAGE_EVENTS)


def one_per_response(found: pl.DataFrame) -> pl.DataFrame:
    """The line kept per `message.id` (else per `requestId`): the completed one (with stop_reason), else the
    last in file and line order. Lines with neither id are each kept."""
    key = pl.coalesce(
        pl.lit("m:") + _message("id"), pl.lit("r:") + pl.col("requestId"),
        pl.format("line:{}:{}", pl.col("__file"), pl.col("line")),
    )
    completed = _message("stop_reason").is_not_null()
    return (
        found.with_columns(key.alias("__key"), completed.alias("__completed"))
        .sort("__completed", "__file", "line")
        .unique(subset="__key", keep="last", maintain_order=True)
        .sort("__file", "line")
    )


def provider_of(model: pl.Expr) -> pl.Expr:
    """Claude Code talks to Anthropic, or to Claude on Bedrock (`us.anthropic.claude-...`, `anthropic.claude-...`
    ids) or Vertex AI (`claude-...@20250514`) when configured so; the model id says which."""
    return (
        pl.when(model.str.contains(r"(?:^|\.)anthropic\.|^arn:aws:bedrock")).then(pl.lit("aws"))
        .when(model.str.contains("@")).then(pl.lit("google"))
        .otherwise(pl.lit("anthropic"))
    )


def _event_columns(options: AgentLogOptions) -> list[pl.Expr]:
    raw_model = blank_to_null(_message("model"))
    provider = provider_of(raw_model.fill_null(""))
    # Every cache write; older lines without the total carry only the split (or neither: 0)
    written = pl.when(_usage("cache_creation_input_tokens").is_not_null()).then(
        tokens(_usage("cache_creation_input_tokens"))
    ).otherwise(tokens(_cache("ephemeral_5m_input_tokens")) + tokens(_cache("ephemeral_1h_input_tokens")))
    return [
        parse_utc(pl.col("timestamp")).alias("event_time"),
        provider.alias("provider"),
        normalize_model(provider, raw_model).alias("model"),
        raw_model.alias("raw_model"),
        *attribution(options),
        blank_to_null(pl.col("sessionId")).alias("run_id"),
        project_from_cwd(pl.col("cwd")).alias("project"),
        pl.coalesce(blank_to_null(pl.col("requestId")), blank_to_null(_message("id"))).alias("request_id"),
        pl.lit(1, pl.Int64).alias("request_count"),
        tokens(_usage("input_tokens")).alias("input_tokens"),
        tokens(_usage("cache_read_input_tokens")).alias("cache_read_tokens"),
        written.alias("cache_write_tokens"),
        pl.when(_cache("ephemeral_1h_input_tokens").is_not_null())
        .then(tokens(_cache("ephemeral_1h_input_tokens"))).alias("cache_write_1h_tokens"),
        tokens(_usage("output_tokens")).alias("output_tokens"),
        pl.lit(0, pl.Int64).alias("reasoning_tokens"),  # thinking is inside output_tokens, not reported apart
        pl.lit(False).alias("is_batch"),
        blank_to_null(_usage("service_tier")).str.to_lowercase().alias("service_tier"),
        pl.lit("ok").alias("status"),
    ]


def _location(obj: StoredObject) -> str:
    return obj.location


def project_key(key: str, root: str) -> str:
    """The project folder a file belongs to, relative to the source's root: `<project>/<session>.jsonl` and
    `<project>/<session>/subagents/<agent>.jsonl` both belong to `<project>`. When the root is itself one
    project folder (or one file), its own name."""
    parts = key.split("/")
    folder = parts[:-1]
    if SUBAGENTS in folder:
        folder = folder[: len(folder) - folder[::-1].index(SUBAGENTS) - 2]
    return "/".join(folder) or PurePosixPath(root.replace("\\", "/")).name


def plan(config: AispendConfig, source: SourceConfig) -> list[Unit]:
    """One unit per project folder under the source's path, owning the rows it wrote."""
    target = config.resolve(source.path)
    root = source_root(target)
    storage = storage_for(target, source.endpoint_url, source.region)
    projects: dict[str, list[StoredObject]] = {}
    for obj in storage.list(target, source.options.pattern):
        projects.setdefault(project_key(relative_key(obj.location, root), root), []).append(obj)
    units = []
    for key, objects in sorted(projects.items()):
        def fingerprint(objects: list[StoredObject] = objects) -> str:
            digest = hashlib.sha256()
            for obj in objects:
                # Keyed within the project folder, so a copy of the folder elsewhere in the source has the same
                # checksum and is refused as a copy (pipelines/ingest.py), and a renamed one is a move.
                inner = relative_key(obj.location, root).removeprefix(f"{key}/")
                digest.update(f"\n{inner}\t{obj.size}\n".encode())
                digest.update(f"etag:{obj.etag}".encode() if obj.etag else storage.read(obj.location))
            return digest.hexdigest()

        def load(objects: list[StoredObject] = objects, key: str = key) -> pl.DataFrame:
            files = ((obj.location, storage.read(obj.location)) for obj in sorted(objects, key=_location))
            return read_project(files, source).with_columns(pl.lit(key, S).alias("x_source_file"))

        location = f"{root}/{key}" if key != PurePosixPath(root).name else root
        # Local files: the folder's version is every file's name below the source, size and modification time
        # (pipelines/ingest.py `checksum_of`), so planning does not read an unchanged or moved project again.
        stamps = [f"{relative_key(o.location, root)}\t{o.size}\t{o.mtime_ns}" for o in objects]
        version = None if any(o.mtime_ns is None for o in objects) else \
            hashlib.sha256("\n".join(stamps).encode()).hexdigest()
        units.append(Unit(key, location, load, fingerprint, {"x_source": source.name, "x_source_file": key},
                          version=version))
    return units


SPEC = SourceSpec(
    kind="claude_code_logs",
    table="usage_events",
    summary="Claude Code's local session logs (sub-agents included), each API response once; no prompt is stored",
    doc="docs/sources/coding_agents.md",
    options=AgentLogOptions,
    plan=plan,
    path_dates=(),  # project folders are named after paths, which can hold digits that look like dates
)
