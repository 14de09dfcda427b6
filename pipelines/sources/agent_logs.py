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


def json_lines(path: str, data: bytes | None = None) -> pl.DataFrame:
    """Each non-blank line as text with its 1-based number (`line`, `text`); every one checked to be a JSON
    object, except an unfinished last line, which is dropped."""
    raw = read_bytes(path, data)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    lines = (
        pl.DataFrame({"text": text.split("\n")}, schema={"text": S})
        .with_row_index("line", offset=1)
        .with_columns(pl.col("line").cast(pl.Int64), pl.col("text").str.strip_chars())
    )
    unfinished = not text.endswith("\n") and lines.height > 0
    lines = lines.filter(pl.col("text") != "")
    if unfinished and lines.height and lines["line"][-1] == text.count("\n") + 1:
        last = lines.tail(1)["text"]
        if not last.str.starts_with("{").all() or last.str.json_path_match("$").is_null().all():
            lines = lines.head(-1)
    decode(lines, pl.Struct({"type": S}), path)  # every line a JSON object; the bad one is named
    return lines


def decode(lines: pl.DataFrame, dtype: pl.Struct, path: str) -> pl.Series:
    """`lines["text"]` decoded with `dtype`; a line that does not fit is named by its number, never quoted."""
    def where(index: int) -> tuple[str, int]:
        number = int(lines["line"][index])
        return f"line {number}", number

    return decode_json(lines["text"], dtype, path, where)


def carrying(lines: pl.DataFrame, pattern: str) -> pl.DataFrame:
    """The lines whose text matches `pattern` (a cheap superset of the lines that can carry usage; the decoded
    `type` then decides), so the many conversation lines are never decoded field by field."""
    return lines.filter(pl.col("text").str.contains(pattern))


def refuse(frame: pl.DataFrame, bad: pl.Expr, path: str, reason: str, column: str) -> None:
    """A SourceError naming the first line of `frame` (which has `line`) where `bad` holds."""
    hit = frame.filter(bad.fill_null(False)).head(1)
    if hit.height:
        line = int(hit["line"][0])
        raise SourceError(path, f"line {line}: field {column!r} {reason}", row=line, column=column)


def count(text: pl.Expr) -> pl.Expr:
    """A token count decoded as text (so 12, "12" and 12.0 all work) as a number; null when absent."""
    return text.str.strip_chars().cast(pl.Float64, strict=False)


def check_counts(frame: pl.DataFrame, counts: dict[str, pl.Expr], path: str) -> None:
    """Refuse the first line where a count is there but not a whole number >= 0."""
    for name, text in counts.items():
        value = count(text)
        refuse(frame, text.is_not_null() & value.is_null(), path, "is not a number", name)
        refuse(frame, value.is_not_null() & (~value.is_finite() | (value != value.floor())), path,
               "is not a whole number", name)
        refuse(frame, value < 0, path, "is negative", name)


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
