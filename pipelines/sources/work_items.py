"""Work records in a documented generic shape: one row per work item (a ticket, a pull request, a document).

Files: CSV or CSV.gz (UTF-8, BOM tolerated), JSON lines (`.jsonl`, `.ndjson`, optionally `.gz`) or Parquet.
CSV and Parquet column names match case-insensitively; JSON keys are the names below. Other columns are ignored.

Required: `work_item_id` (unique in the file; what requests name), `task` (a task catalog id).
Time (at least one date per row): `opened_at`, `closed_at` (UTC; ISO 8601, `2026-10-01 09:30:00` or a date;
text with an offset is converted), and/or `handling_minutes` (hands-on minutes, >= 0; preferred to
closed_at - opened_at when present). Optional: `ai_assisted` (true/false, yes/no, 1/0; blank: a request naming
the item decides), `team`, `person`, `reopened`, `escalated`, `reverted` (booleans), `csat` (1-5).
Any violation refuses the whole file, naming the first bad row (1-based, header excluded) and the column
(docs/sources/work_items.md).
"""

from __future__ import annotations

import io

import polars as pl

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.sources.common import blank_to_null, check, read_bytes, read_table, to_utc
from pipelines.sources.spec import SourceSpec
from pipelines.sources.work_common import QUALITY_FLAGS, finish, flag, work_plan

REQUIRED = ["work_item_id", "task"]
TIMES = ["opened_at", "closed_at"]
TEXTS = ["team", "person"]
FLAGS = ["ai_assisted", *QUALITY_FLAGS]
NUMBERS = ["handling_minutes", "csat"]
COLUMNS = [*REQUIRED, *TIMES, *NUMBERS, *FLAGS, *TEXTS]
JSON_LINES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")


def read(path: str, source: SourceConfig, data: bytes | None = None,
         tasks: frozenset[str] | None = None) -> pl.DataFrame:
    frame = _columns(_load(path, data), path)
    parsed = frame.with_columns(expr.alias(f"{name}__parsed") for name, expr in _typed(frame).items())
    _validate(parsed, path)
    return finish(parsed.select(pl.col(f"{c}__parsed").alias(c) if f"{c}__parsed" in parsed.columns else pl.col(c)
                                for c in COLUMNS), path, source, tasks)


def _load(path: str, data: bytes | None) -> pl.DataFrame:
    if path.lower().endswith(JSON_LINES):
        body = read_bytes(path, data).removeprefix(b"\xef\xbb\xbf")
        if not body.strip():
            raise SourceError(path, "empty file")
        try:
            return pl.read_ndjson(io.BytesIO(body), schema={c: pl.String for c in COLUMNS})
        except Exception as exc:  # noqa: BLE001 - Polars says what it could not decode
            raise SourceError(path, f"unreadable JSON lines: {str(exc).splitlines()[0]}") from exc
    try:
        return read_table(path, data, "work items")
    except SourceError as exc:
        if "unsupported file type" in exc.reason:
            raise SourceError(path, "unsupported file type for work items (expected .csv, .csv.gz, .jsonl, "
                                    ".ndjson or .parquet)") from None
        raise


def _columns(raw: pl.DataFrame, path: str) -> pl.DataFrame:
    """The known columns by lower-cased name, text except times that arrive typed (Parquet)."""
    by_lower: dict[str, str] = {}
    for name in raw.columns:
        key = name.strip().lower()
        if key in by_lower and key in COLUMNS:
            raise SourceError(path, "column appears twice", column=key)
        by_lower.setdefault(key, name)
    missing = [c for c in REQUIRED if c not in by_lower]
    if missing:
        raise SourceError(path, f"missing required column(s): {', '.join(missing)}", column=missing[0])
    out = []
    for name in COLUMNS:
        if name not in by_lower:
            out.append(pl.lit(None, pl.String).alias(name))
            continue
        col, dtype = pl.col(by_lower[name]), raw.schema[by_lower[name]]
        keep = name in TIMES and isinstance(dtype, (pl.Datetime, pl.Date))
        out.append((col if keep else blank_to_null(col.cast(pl.String))).alias(name))
    return raw.select(out)


def _typed(frame: pl.DataFrame) -> dict[str, pl.Expr]:
    return {
        **{c: to_utc(pl.col(c), frame.schema[c]) for c in TIMES},
        **{c: pl.col(c).cast(pl.Float64, strict=False) for c in NUMBERS},
        **{c: flag(pl.col(c)) for c in FLAGS},
    }


def _validate(parsed: pl.DataFrame, path: str) -> None:
    """Values given but not understood; the message shows the value as the file has it."""
    reasons = {**{c: "not a timestamp: {value}" for c in TIMES}, **{c: "not a number: {value}" for c in NUMBERS},
               **{c: "not true or false: {value}" for c in FLAGS}}
    for name, reason in reasons.items():
        check(parsed, pl.col(name).is_not_null() & pl.col(f"{name}__parsed").is_null(), path, reason, name)


SPEC = SourceSpec(
    kind="work_items",
    table="work_items",
    summary="work records in a documented generic shape (CSV, JSON lines or Parquet)",
    doc="docs/sources/work_items.md",
    plan=work_plan("work_items", read),
)
