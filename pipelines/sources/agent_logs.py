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

import polars as pl
from pydantic import Field

from pipelines.errors import SourceError
from pipelines.sources.common import blank_to_null, decode_json, read_bytes
from pipelines.sources.spec import FileOptions

S = pl.String
DEFAULT_TASK = "coding_agent"


class AgentLogOptions(FileOptions):
    """Options of both agent-log kinds: which files, and what task, team and user their events count for."""

    pattern: str | None = Field(default="*.jsonl", description="session files within `path`")
    task: str = Field(default=DEFAULT_TASK, min_length=1, description="the task every event counts for")
    team: str | None = Field(default=None, description="the team every event counts for")
    user_id: str | None = Field(default=None, description="who ran the agent (e.g. the machine's login name)")


def json_lines(files: list[tuple[str, bytes | None]]) -> pl.DataFrame:
    """Every non-blank line of the files as text: `__file` (index), `__path`, `line` (1-based), `text`. Every
    line is checked to be a JSON object, all files at once; an unfinished last line is dropped."""
    frames = [_file_lines(i, path, data) for i, (path, data) in enumerate(files)]
    lines = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=_LINES)
    decode(lines, pl.Struct({"type": S}))  # every line a JSON object; the first bad one is named
    return lines


_LINES = {"__file": pl.Int64, "__path": S, "line": pl.Int64, "text": S}


def _file_lines(index: int, path: str, data: bytes | None) -> pl.DataFrame:
    raw = read_bytes(path, data)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    rows = text.split("\n")
    if not text.endswith("\n") and rows and _unfinished(rows[-1]):
        rows[-1] = ""  # being written: read whole on the next run, when the file has changed
    return (
        pl.LazyFrame({"text": rows}, schema={"text": S})
        .with_row_index("line", offset=1)
        .select(pl.lit(index, pl.Int64).alias("__file"), pl.lit(path, S).alias("__path"),
                pl.col("line").cast(pl.Int64), pl.col("text").str.strip_chars())
        .filter(pl.col("text") != "")
        .collect()
    )


def _unfinished(last: str) -> bool:
    try:
        json.loads(last)
    except ValueError:
        return True
    return False


def decode(lines: pl.DataFrame, dtype: pl.Struct) -> pl.Series:
    """`lines["text"]` decoded with `dtype`; a line that does not fit is named by its file and line number,
    never quoted."""
    hit: list[int] = []

    def where(index: int) -> tuple[str, int]:
        hit.append(index)
        number = int(lines["line"][index])
        return f"line {number}", number

    try:
        return decode_json(lines["text"], dtype, "", where)
    except SourceError as exc:
        raise SourceError(lines["__path"][hit[-1]], exc.reason, row=exc.row, column=exc.column) from None


def carrying(lines: pl.DataFrame, pattern: str) -> pl.DataFrame:
    """The lines whose text matches `pattern` (a cheap superset of the lines that can carry usage; the decoded
    `type` then decides), so the many conversation lines are never decoded field by field."""
    return lines.filter(pl.col("text").str.contains(pattern))


Check = tuple[pl.Expr, str, str]  # (bad, reason, field): a line where `bad` holds is refused


def refuse(frame: pl.DataFrame, checks: list[Check]) -> None:
    """A SourceError naming the file and line of the first failing check's first row (`frame` has `__path`
    and `line`); one pass over the frame when every check passes, which is nearly always."""
    if not checks or frame.height == 0:
        return
    failed = frame.select(*(bad.fill_null(False).any().alias(str(i)) for i, (bad, _, _) in enumerate(checks))).row(0)
    for hit, (bad, reason, column) in zip(failed, checks):
        if hit:
            first = frame.filter(bad.fill_null(False)).head(1)
            line = int(first["line"][0])
            raise SourceError(first["__path"][0], f"line {line}: field {column!r} {reason}", row=line, column=column)


def count(text: pl.Expr) -> pl.Expr:
    """A token count decoded as text (so 12, "12" and 12.0 all work) as a number; null when absent."""
    return text.str.strip_chars().cast(pl.Float64, strict=False)


def count_checks(counts: dict[str, pl.Expr]) -> list[Check]:
    """A count that is there must be a whole number >= 0."""
    out: list[Check] = []
    for name, text in counts.items():
        value = count(text)
        out += [(text.is_not_null() & value.is_null(), "is not a number", name),
                (value.is_not_null() & (~value.is_finite() | (value != value.floor())), "is not a whole number", name),
                (value < 0, "is negative", name)]
    return out


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
