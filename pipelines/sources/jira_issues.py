"""Jira issues from Jira's CSV export (all fields or current fields), mapped onto work_items.

One issue is one work item: `Issue key` (e.g. `DATA-142`), opened at `Created`, done at `Resolved`, hands-on
minutes from `Time Spent` (seconds in the export; blank when nobody logged work). Jira writes dates in the
site's display format and the exporting user's time zone, not ISO and not UTC (`21/Nov/26 3:04 PM`): options
`date_format` (a strftime pattern, default `%d/%b/%y %I:%M %p`; English month names) and `timezone` (an IANA
name, default UTC) say how to read them. A multi-valued field repeats its header once per value
(`Labels,Labels,Labels`): every `Labels` column is read. Labels name AI assistance (`ai_label`), reopened and
escalated issues (`reopened_label`, `escalated_label`) and, with `task_label_prefix`, the task; otherwise `task`
applies to every issue. `Assignee` is the person. Summaries and descriptions are never read.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
from pydantic import Field, field_validator

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.sources.bounds import SECONDS
from pipelines.sources.common import check, read_table
from pipelines.sources.spec import SourceSpec
from pipelines.sources.work_common import ExportOptions, ai_from_label, finish, has_label, labelled_task, work_plan

REQUIRED = ["Issue key", "Created"]
OPTIONAL = ["Resolved", "Time Spent", "Assignee"]


class JiraOptions(ExportOptions):
    date_format: str = Field(default="%d/%b/%y %I:%M %p", min_length=2, description="how the export writes dates")
    timezone: str = Field(default="UTC", description="the exporting user's time zone (IANA name)")
    reopened_label: str | None = Field(default=None, min_length=1)
    escalated_label: str | None = Field(default=None, min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)") from None
        return value


def read(path: str, source: SourceConfig, data: bytes | None = None,
         tasks: frozenset[str] | None = None) -> pl.DataFrame:
    options: JiraOptions = source.options
    # A multi-valued field repeats its header once per value (Labels, Labels, ...): only the columns read once
    # must appear once.
    raw = read_table(path, data, "a Jira CSV export", parquet=False,
                     canonical=lambda header: header.strip() if header.strip() in REQUIRED + OPTIONAL else None)
    raw = raw.rename({c: c.strip() for c in raw.columns})
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise SourceError(path, f"missing Jira column(s): {', '.join(missing)} (is this a Jira CSV export?)",
                          column=missing[0])
    frame = raw.select(
        *[pl.col(c) if c in raw.columns else pl.lit(None, pl.String).alias(c) for c in REQUIRED + OPTIONAL],
        _labels(raw.columns).alias("labels"),
    )
    for name in ["Created", "Resolved"]:
        check(frame, pl.col(name).is_not_null() & _when(name, options).is_null(), path,
              f"not a date in the source's date_format {options.date_format!r}: {{value}}", name)
    spent = pl.col("Time Spent").cast(pl.Float64, strict=False)
    check(frame, pl.col("Time Spent").is_not_null() & spent.is_null(), path,
          "Time Spent is not a number of seconds: {value}", "Time Spent")
    check(frame, SECONDS.bad(spent), path, "{value} is not " + SECONDS.expected(), "Time Spent")
    labels = pl.col("labels")
    items = frame.select(
        (pl.lit(options.id_prefix) + pl.col("Issue key")).alias("work_item_id"),
        labelled_task(labels, options).alias("task"),
        _when("Created", options).alias("opened_at"),
        _when("Resolved", options).alias("closed_at"),
        (spent / 60.0).alias("handling_minutes"),
        ai_from_label(labels, options).alias("ai_assisted"),
        pl.lit(options.team, pl.String).alias("team"),
        pl.col("Assignee").alias("person"),
        has_label(labels, options.reopened_label).alias("reopened"),
        has_label(labels, options.escalated_label).alias("escalated"),
        pl.lit(None, pl.Boolean).alias("reverted"),
        pl.lit(None, pl.Float64).alias("csat"),
    )
    return finish(items, path, source, tasks, names={"opened_at": "Created", "closed_at": "Resolved",
                                                    "handling_minutes": "Time Spent"})


def _labels(columns: list[str]) -> pl.Expr:
    """Every `Labels` column (Polars names repeats `Labels_duplicated_0`, ...) as one list, blanks dropped."""
    repeated = [c for c in columns if c == "Labels" or re.fullmatch(r"Labels_duplicated_\d+", c)]
    if not repeated:
        return pl.lit([], pl.List(pl.String))
    return pl.concat_list([pl.col(c).str.strip_chars() for c in repeated]).list.drop_nulls()


def _when(column: str, options: JiraOptions) -> pl.Expr:
    """A Jira display date in the exporting user's zone, as naive UTC."""
    local = pl.col(column).str.strip_chars().str.to_datetime(options.date_format, strict=False, time_unit="us")
    return (local.dt.replace_time_zone(options.timezone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC").dt.replace_time_zone(None))


SPEC = SourceSpec(
    kind="jira_issues",
    table="work_items",
    summary="Jira issues from its CSV export (repeated Labels headers, display-format dates)",
    doc="docs/sources/work_items.md",
    options=JiraOptions,
    plan=work_plan("jira_issues", read),
)
