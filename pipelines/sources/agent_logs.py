"""What the coding agents' local logs share: JSON lines holding prompts and code, read for counts only.

Claude Code (`claude_code_logs.py`) and Codex CLI (`codex_logs.py`) both write one JSON object per line, and
most lines carry the conversation itself. So every line is first checked to be a JSON object (a corrupt line
refuses the unit, named by file and line, never quoted), and only the lines that can carry usage are decoded,
with a struct schema that has no content fields: prompt and code text never reach a frame, the warehouse, the
logs or an error message (rule 6 in docs/architecture.md).

A session file is appended to while its agent runs: an unfinished last line (no newline after it, not yet
valid JSON) is left for the next run, which sees the file changed and reads it whole.

What the events are for a person with no task catalog (docs/sources/coding_agents.md): every event is task
`coding_agent` (option `task`), one run per session (`run_id`), project = the last folder of the session's
working directory, team and user from the options (`aispend local` sets `user_id` to the login name).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import polars as pl
from pydantic import Field

from pipelines.errors import SourceError
from pipelines.sources.bounds import TOKENS, WHEN, show
from pipelines.sources.common import blank_to_null, decode_json, first_repeated_key, parse_utc, read_bytes, text_lines
from pipelines.sources.spec import FileOptions

S = pl.String
DEFAULT_TASK = "coding_agent"


class AgentLogOptions(FileOptions):
    """Options of both agent-log kinds: which files, and what task, team and user their events count for."""

    pattern: str | None = Field(default="*.jsonl", description="session files within `path`")
    task: str = Field(default=DEFAULT_TASK, min_length=1, description="the task every event counts for")
    team: str | None = Field(default=None, description="the team every event counts for")
    user_id: str | None = Field(default=None, description="who ran the agent (e.g. the machine's login name)")


def usage_lines(files: Iterable[tuple[str, bytes | None]], carries: str, dtype: pl.Struct) -> pl.DataFrame:
    """The lines of the files that can carry usage, decoded with `dtype`: `__file` (index), `__path`, `line`
    (1-based) and `dtype`'s fields. Every line of every file is checked to be a JSON object (the first bad one is
    named); an unfinished last line is dropped.

    `files` is taken as it is iterated, and checked in batches of about BATCH_BYTES: a project folder of a heavy
    user's sessions is hundreds of MB of conversation, and only the few fields of its usage lines are held past
    their batch (bench/README.md, "Coding agents' logs: one file at a time").
    """
    frames: list[pl.DataFrame] = []
    held: list[pl.DataFrame] = []
    size = 0
    for index, (path, data) in enumerate(files):
        lines, read = _file_lines(index, path, data)
        held.append(lines)
        size += read
        if size >= BATCH_BYTES:
            frames.append(_usage_lines(pl.concat(held, how="vertical"), carries, dtype))
            held, size = [], 0
    if held or not frames:
        frames.append(_usage_lines(pl.concat(held, how="vertical") if held else pl.DataFrame(schema=_LINES),
                                   carries, dtype))
    return pl.concat(frames, how="vertical")


# Files are checked and decoded together up to about this much text: a file's fixed cost (a decode, a repeated-key
# query, a pass of checks) is paid once for many small session files, and a big one is still held alone.
BATCH_BYTES = 16 << 20
_LINES = {"__file": pl.Int64, "__path": S, "line": pl.Int64, "text": S}


def _usage_lines(lines: pl.DataFrame, carries: str, dtype: pl.Struct) -> pl.DataFrame:
    # Every line a JSON object. A key written twice matters only on the lines read, which `decode` checks: a line
    # that never says "type": "assistant" (or Codex's types) cannot become one whichever "type" counted.
    _json_objects(lines, pl.Struct({"type": S}))
    # A cheap superset of the lines that can carry usage (the decoded `type` then decides), so the many
    # conversation lines are never decoded field by field.
    carried = lines.filter(pl.col("text").str.contains(carries))
    return carried.select("__file", "__path", "line").with_columns(decode(carried, dtype).alias("d")).unnest("d")


def _file_lines(index: int, path: str, data: bytes | None) -> tuple[pl.DataFrame, int]:
    """The file's non-blank lines, trimmed, and how many bytes it held."""
    raw = read_bytes(path, data)
    text = text_lines(path, raw)  # invalid UTF-8 is named by its line
    if text.len() and not raw.endswith(b"\n") and _unfinished(text[-1]):
        text = text.head(-1)  # being written: read whole on the next run, when the file has changed
    return (
        pl.DataFrame({"text": text}).lazy()
        .with_row_index("line", offset=1)
        .select(pl.lit(index, pl.Int64).alias("__file"), pl.lit(path, S).alias("__path"),
                pl.col("line").cast(pl.Int64), pl.col("text").str.strip_chars())
        .filter(pl.col("text") != "")
        .collect()
    ), len(raw)


def _unfinished(last: str) -> bool:
    try:
        json.loads(last)
    except ValueError:
        return True
    return False


def decode(lines: pl.DataFrame, dtype: pl.Struct) -> pl.Series:
    """`lines["text"]` decoded with `dtype`; a line that does not fit, or that writes a field `dtype` reads twice
    in one object (which value counts is never guessed), is named by its file and line number, never quoted."""
    decoded = _json_objects(lines, dtype)
    found = first_repeated_key(lines["text"], _objects(dtype, "$"))
    if found is not None:
        index, key = found
        raise SourceError(lines["__path"][index], "appears twice in one object (which value counts is not guessed)",
                          row=int(lines["line"][index]), column=key, unit="line")
    return decoded


def _json_objects(lines: pl.DataFrame, dtype: pl.Struct) -> pl.Series:
    """`lines["text"]` decoded with `dtype`; the first line that is no JSON object, or does not fit, is named."""
    hit: list[int] = []

    def where(index: int) -> tuple[str, int]:
        hit.append(index)
        return "the line", int(lines["line"][index])

    try:
        return decode_json(lines["text"], dtype, "", where)
    except SourceError as exc:
        raise SourceError(lines["__path"][hit[-1]], exc.reason, row=exc.row, column=exc.column, unit="line") from None


def _objects(dtype: pl.Struct, path: str) -> dict[str, list[str]]:
    """Every object `dtype` reads (a JSON path -> its keys), nested ones included."""
    out = {path: [f.name for f in dtype.fields]}
    for f in dtype.fields:
        if isinstance(f.dtype, pl.Struct):
            out.update(_objects(f.dtype, f"{path}.{f.name}"))
    return out


Check = tuple[pl.Expr, str, str] | tuple[pl.Expr, str, str, pl.Expr]
# (bad, reason, field[, shown]): a line where `bad` holds is refused; `reason` may say {value}, the line's `shown`
# (a parsed number or time, never text the line carries)


def refuse(frame: pl.DataFrame, checks: list[Check]) -> None:
    """A SourceError naming the file, line and field of the first failing check's first row (`frame` has
    `__path` and `line`); one pass over the frame when every check passes, which is nearly always."""
    if not checks or frame.height == 0:
        return
    failed = frame.select(*(c[0].fill_null(False).any().alias(str(i)) for i, c in enumerate(checks))).row(0)
    for hit, (bad, reason, column, *shown) in zip(failed, checks):
        if hit:
            first = frame.filter(bad.fill_null(False)).head(1)
            value = first.select(shown[0]).item() if shown else None
            raise SourceError(first["__path"][0], reason.format(value=show(value)), row=int(first["line"][0]),
                              column=column, unit="line")


def count(text: pl.Expr) -> pl.Expr:
    """A token count decoded as text (so 12, "12" and 12.0 all work) as a number; null when absent."""
    return text.str.strip_chars().cast(pl.Float64, strict=False)


def count_checks(counts: dict[str, pl.Expr]) -> list[Check]:
    """A count that is there must be a number, and a whole one in a token count's bounds (bounds.py: `1e30`
    would overflow the cast to BIGINT, `NaN` or `Infinity` is no count)."""
    out: list[Check] = []
    for name, text in counts.items():
        value = count(text)
        out += [(text.is_not_null() & value.is_null(), "not a number", name),
                (TOKENS.bad(value), "{value} is not " + TOKENS.expected(), name, value)]
    return out


def time_checks(text: pl.Expr) -> list[Check]:
    """The line's timestamp: there, a timestamp, and in the load window (bounds.py: `9999-12-31` would push a
    mart's day range past the calendar)."""
    when = parse_utc(text)
    return [(text.is_null(), "missing", "timestamp"), (when.is_null(), "not a timestamp", "timestamp"),
            (WHEN.bad(when), "{value} is not " + WHEN.expected(), "timestamp", when)]


def tokens(text: pl.Expr) -> pl.Expr:
    """A checked count as BIGINT, absent = 0."""
    return count(text).fill_null(0).cast(pl.Int64)


def project_from_cwd(cwd: pl.Expr) -> pl.Expr:
    """The project a session worked in: the last folder of its working directory (`/home/me/code/app` -> `app`,
    `C:\\code\\app` -> `app`); the whole path stays out of the warehouse (it names the person's home)."""
    return blank_to_null(cwd.str.replace_all("\\\\", "/").str.strip_chars_end("/").str.split("/").list.last())


def attribution(options: AgentLogOptions) -> list[pl.Expr]:
    """task, team and user_id of every event of the source."""
    return [
        pl.lit(options.task, S).alias("task"),
        pl.lit(options.team, S).alias("team"),
        pl.lit(options.user_id, S).alias("user_id"),
    ]
