"""What every work-record kind shares: the checks a work item passes, the task catalog it is checked against,
and the helpers the export readers use to map labels and tags onto work_items' columns.

A work-record reader (the generic `work_items` kind, GitHub pull requests, Jira issues, Zendesk tickets) turns
its file into work_items' columns, then hands the frame to `finish`, which refuses the file at the first bad row
(docs/sources/work_items.md lists every check). A task id must be in the task catalog: a typo would otherwise
make a task with no hourly rate and no verdict. So these kinds plan their units themselves (`work_plan`): the
reader is given the catalog's ids, and each unit's fingerprint carries them, so a catalog that gains or loses a
task re-reads the work records against it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import polars as pl
from pydantic import Field

from pipelines.errors import SourceError
from pipelines.schemas import WORK_ITEMS, conform
from pipelines.sources.bounds import refuse_bad_values
from pipelines.sources.common import blank_to_null, check, read_bytes, refuse_repeated_keys, utf8
from pipelines.sources.spec import FileOptions
from pipelines.sources.units import Unit, file_units

if TYPE_CHECKING:
    from pipelines.config import AispendConfig, SourceConfig

TRUE = ["true", "yes", "y", "1", "t"]
FALSE = ["false", "no", "n", "0", "f"]
QUALITY_FLAGS = ["reopened", "escalated", "reverted"]


class ExportOptions(FileOptions):
    """How an export's items map onto tasks, teams and AI assistance (each export kind adds its own)."""

    task: str | None = Field(default=None, description="the catalog task every item of this source is")
    task_label_prefix: str | None = Field(default=None, min_length=1,
                                          description="a label or tag `<prefix><task>` names an item's task")
    team: str | None = Field(default=None, description="the team every item of this source belongs to")
    ai_label: str | None = Field(default=None, min_length=1, description="a label or tag marking AI-assisted items")
    id_prefix: str = Field(default="", description="put before the export's own id, so ids stay unique")


def flag(text: pl.Expr) -> pl.Expr:
    """true/false, yes/no, 1/0 (any case) as a boolean; anything else null (readers refuse given values that
    turn null)."""
    lower = blank_to_null(text).str.to_lowercase()
    return pl.when(lower.is_in(TRUE)).then(True).when(lower.is_in(FALSE)).then(False)


def has_label(labels: pl.Expr, name: str | None) -> pl.Expr:
    """Whether a list of labels holds `name` (case-insensitive); null when no label is configured."""
    if name is None:
        return pl.lit(None, pl.Boolean)
    return labels.list.eval(pl.element().str.to_lowercase() == name.lower()).list.any().fill_null(False)


def labelled_task(labels: pl.Expr, options: ExportOptions) -> pl.Expr:
    """The task a `<prefix><task>` label names, else the source's `task` option, else null (refused)."""
    fixed = pl.lit(options.task, pl.String)
    prefix = options.task_label_prefix
    if prefix is None:
        return fixed
    named = labels.list.eval(pl.element().filter(pl.element().str.starts_with(prefix)).str.slice(len(prefix)))
    return pl.coalesce(blank_to_null(named.list.first()), fixed)


def ai_from_label(labels: pl.Expr, options: ExportOptions) -> pl.Expr:
    """True where the AI label is on the item; otherwise NULL, so a request naming the item decides."""
    return pl.when(has_label(labels, options.ai_label)).then(True).otherwise(None)


def finish(frame: pl.DataFrame, path: str, source: SourceConfig, tasks: frozenset[str] | None,
           names: dict[str, str] | None = None) -> pl.DataFrame:
    """Check typed work items (one per row, in file order) and conform them to work_items.

    Rows are numbered from 1 in the file's own order, so an error names the row a person opens the file at;
    `names` are the export's own names of work_items' columns (mergedAt for closed_at), so an error names the
    field a person finds in the file. Dates are checked against the load window before they are compared (a
    1970 `mergedAt` is a bad date, not an item closed before it was opened), every value against its bound last
    (pipelines/sources/bounds.py).
    """
    frame = frame.with_columns(blank_to_null(pl.col("work_item_id")).alias("work_item_id"),
                               blank_to_null(pl.col("task")).alias("task"))
    check(frame, pl.col("work_item_id").is_null(), path, "missing work item id", "work_item_id")
    check(frame, pl.col("task").is_null(), path,
          "missing task (every work item names a task catalog id)", "task")
    if tasks is not None:
        check(frame, ~pl.col("task").is_in(sorted(tasks)), path,
              "unknown task {value}: not in the task catalog", "task")
    check(frame, pl.col("work_item_id").is_duplicated() & (pl.int_range(pl.len()).over("work_item_id") > 0),
          path, "duplicate work item id {value} (already on an earlier row)", "work_item_id")
    check(frame, pl.col("opened_at").is_null() & pl.col("closed_at").is_null(), path,
          "no date: give closed_at or opened_at (the week the item counts in)", "closed_at")
    refuse_bad_values(frame.select("opened_at", "closed_at"), "work_items", path, names=names)
    check(frame, pl.col("closed_at") < pl.col("opened_at"), path, "closed before it was opened",
          (names or {}).get("closed_at", "closed_at"))
    minutes = pl.col("handling_minutes")
    check(frame, ~minutes.is_finite() | (minutes < 0), path, "handling_minutes must be a finite number >= 0: {value}",
          "handling_minutes")
    if "elapsed_minutes" in frame.columns:
        elapsed = pl.col("elapsed_minutes")
        check(frame, ~elapsed.is_finite() | (elapsed < 0), path, "elapsed minutes must be >= 0: {value}",
              "elapsed_minutes")
    check(frame, (pl.col("csat") < 1) | (pl.col("csat") > 5), path, "csat must be between 1 and 5: {value}", "csat")
    refuse_bad_values(frame, "work_items", path, names=names)
    return conform(
        frame.with_columns(pl.lit(source.name).alias("x_source"), pl.lit(path).alias("x_source_file")),
        WORK_ITEMS,
    )


def read_json_export(path: str, data: bytes | None, schema: pl.Schema | dict, opens: bytes, expected: str
                     ) -> pl.DataFrame:
    """A work system's JSON export (gh's array, Zendesk's document) read with its schema. Invalid UTF-8 is named
    by its line and a key written twice is refused before decoding (a decoder would keep one silently); a file
    that does not open with `opens` is refused as not `expected`."""
    raw = read_bytes(path, data)
    refuse_repeated_keys(path, utf8(path, raw))
    body = raw.removeprefix(b"\xef\xbb\xbf").strip()
    if not body.startswith(opens):
        raise SourceError(path, f"expected {expected}")
    try:
        return pl.read_json(io.BytesIO(body), schema=schema)
    except Exception as exc:  # noqa: BLE001 - Polars says what it could not decode
        raise SourceError(path, f"unreadable JSON: {str(exc).splitlines()[0]}") from exc


def catalog_tasks(config: AispendConfig) -> frozenset[str] | None:
    """The task ids of the config's catalog; None when the config names none (ids are then not checked)."""
    from pipelines.sources.task_catalog import read_task_catalog

    path = config.task_catalog_path
    if path is None:
        return None
    try:
        catalog = read_task_catalog(str(path))
    except SourceError as exc:
        raise SourceError(exc.location, f"work items need the task catalog to check task ids: {exc.reason}",
                          row=exc.row, column=exc.column) from None
    return frozenset(catalog["task"].to_list())


def work_plan(kind: str, read: Callable[..., pl.DataFrame]):
    """A planner for a work-record kind: its files as units, each read against the catalog's task ids."""

    def plan(config: AispendConfig, source: SourceConfig) -> list[Unit]:
        from pipelines.sources import spec

        tasks = catalog_tasks(config)
        bound = dataclasses.replace(spec(kind), read=partial(read, tasks=tasks), plan=None)
        stamp = "none" if tasks is None else hashlib.sha256("\n".join(sorted(tasks)).encode()).hexdigest()[:16]
        # The version carries the stamp too: a file unchanged on disk is still new to a catalog that changed.
        return [dataclasses.replace(u, fingerprint=partial(_stamped, u.fingerprint, stamp),
                                    version=None if u.version is None else f"{u.version}:tasks:{stamp}")
                for u in file_units(config, source, bound)]

    return plan


def _stamped(fingerprint: Callable[[], str | None], stamp: str) -> str | None:
    value = fingerprint()
    return None if value is None else f"{value}:tasks:{stamp}"
