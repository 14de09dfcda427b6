"""Zendesk support tickets with their ticket metrics, mapped onto work_items.

A file is one JSON object holding `tickets` and their metrics, joined by `ticket_id`, as the Support API gives
them (`GET /api/v2/tickets.json?include=metric_sets` or the incremental ticket export with
`include=metric_sets`: sideloaded `metric_sets`; or `tickets` next to a `ticket_metrics` list from
`/api/v2/ticket_metrics.json`). One ticket is one work item: `<id_prefix><id>` (default `ZD-4521`), opened at
`created_at`, done at the metrics' `solved_at`. Minutes:
- elapsed: `full_resolution_time_in_minutes` less `agent_wait_time_in_minutes` (time spent waiting on the customer
  is not the team's), in business hours (option `business_hours`, default true) or calendar minutes. Turnaround,
  not people's time: a task measured on it gets a verdict but no money figure (docs/evidence.md);
- handling (hands-on): a custom field holding seconds spent, as Zendesk's Time Tracking app keeps them
  (option `time_field_id`).
Quality: `reopens` > 0 is reopened; `satisfaction_rating.score` good is CSAT 5, bad is 1, and `offered` or
`unoffered` (not rated) is no rating, never a bad one; a tag (`escalated_tag`) marks escalations. Tags name AI
assistance (`ai_label`) and, with `task_label_prefix`, the task. Subjects, descriptions and comments are never
read.
"""

from __future__ import annotations

import json
import polars as pl
from pydantic import Field, StrictBool

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.sources.bounds import MINUTES, REQUESTS
from pipelines.sources.common import check, parse_utc, read_bytes
from pipelines.sources.spec import SourceSpec
from pipelines.sources.work_common import (ExportOptions, ai_from_label, finish, has_label, labelled_task,
                                           read_json_export, work_plan)

_S = pl.String
_MINUTES = pl.Struct({"calendar": _S, "business": _S})
TICKET = pl.Struct({
    "id": _S,
    "created_at": _S,
    "status": _S,
    "tags": pl.List(_S),
    "assignee_id": _S,
    "satisfaction_rating": pl.Struct({"score": _S}),
})
METRICS = pl.Struct({
    "ticket_id": _S,
    "reopens": _S,
    "solved_at": _S,
    "full_resolution_time_in_minutes": _MINUTES,
    "agent_wait_time_in_minutes": _MINUTES,
})
DOCUMENT = {"tickets": pl.List(TICKET), "metric_sets": pl.List(METRICS), "ticket_metrics": pl.List(METRICS)}
CSAT = {"good": 5.0, "bad": 1.0}
RATINGS = ["good", "bad", "offered", "unoffered"]


class ZendeskOptions(ExportOptions):
    id_prefix: str = Field(default="ZD-", description="put before the ticket id")
    business_hours: StrictBool = Field(default=True, description="elapsed minutes in business hours, else calendar")
    time_field_id: int | None = Field(default=None, description="the custom field holding seconds spent")
    escalated_tag: str | None = Field(default=None, min_length=1)


def read(path: str, source: SourceConfig, data: bytes | None = None,
         tasks: frozenset[str] | None = None) -> pl.DataFrame:
    options: ZendeskOptions = source.options
    tickets, metrics = _load(path, data)
    if options.time_field_id is not None:
        tickets = tickets.with_columns(_tracked_seconds(path, data, options.time_field_id))
    check(tickets, pl.col("id").cast(pl.Int64, strict=False).is_null(), path, "not a ticket id: {value}", "id")
    check(tickets, parse_utc(pl.col("created_at")).is_null(), path, "missing or unreadable created_at: {value}",
          "created_at")
    score = pl.col("score").str.to_lowercase()
    check(tickets, score.is_not_null() & ~score.is_in(RATINGS), path,
          f"unknown satisfaction_rating.score {{value}} (expected {', '.join(RATINGS)})", "score")
    metrics = _checked_metrics(metrics, path)
    joined = tickets.join(metrics, left_on="id", right_on="ticket_id", how="left", maintain_order="left")
    tags = pl.col("tags").fill_null([])
    items = joined.select(
        (pl.lit(options.id_prefix) + pl.col("id")).alias("work_item_id"),
        labelled_task(tags, options).alias("task"),
        parse_utc(pl.col("created_at")).alias("opened_at"),
        parse_utc(pl.col("solved_at")).alias("closed_at"),
        (pl.col("tracked_seconds") / 60.0 if options.time_field_id is not None else pl.lit(None, pl.Float64))
        .alias("handling_minutes"),
        _elapsed(options).alias("elapsed_minutes"),
        ai_from_label(tags, options).alias("ai_assisted"),
        pl.lit(options.team, _S).alias("team"),
        pl.col("assignee_id").alias("person"),
        (pl.col("reopens").cast(pl.Float64) > 0).alias("reopened"),
        has_label(tags, options.escalated_tag).alias("escalated"),
        pl.lit(None, pl.Boolean).alias("reverted"),
        score.replace_strict(CSAT, default=None, return_dtype=pl.Float64).alias("csat"),
    )
    return finish(items, path, source, tasks, names={
        "opened_at": "created_at", "closed_at": "solved_at", "handling_minutes": "custom_fields",
        "elapsed_minutes": f"full_resolution_time_in_minutes.{_side(options)}"})


def _load(path: str, data: bytes | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    doc = read_json_export(path, data, DOCUMENT, b"{",
                           "a JSON object with `tickets` and `metric_sets` (or `ticket_metrics`)")
    if doc["tickets"].null_count():
        raise SourceError(path, "no `tickets` list in the file")
    # A page with no tickets (a quiet day of the incremental export) is an empty list, exploded to one null
    tickets = doc.select(pl.col("tickets").explode()).drop_nulls().unnest("tickets")
    tickets = tickets.with_columns(pl.col("satisfaction_rating").struct.field("score").alias("score"))
    metrics = pl.concat([doc.select(pl.col(k).explode().alias("m")) for k in ("metric_sets", "ticket_metrics")])
    return tickets, metrics.drop_nulls().unnest("m")


def _checked_metrics(metrics: pl.DataFrame, path: str) -> pl.DataFrame:
    flat = metrics.select(
        "ticket_id", "reopens", "solved_at",
        *[pl.col(f"{m}_time_in_minutes").struct.field(side).alias(f"{m}_time_in_minutes.{side}")
          for m in ("full_resolution", "agent_wait") for side in ("calendar", "business")],
    )
    # Rows here count the metric sets, so every message says so.
    check(flat, pl.col("ticket_id").is_null(), path, "a metric set without a ticket_id", "ticket_id")
    check(flat, pl.col("ticket_id").is_duplicated() & (pl.int_range(pl.len()).over("ticket_id") > 0), path,
          "a second metric set for ticket {value}", "ticket_id")
    for name in ["reopens", *flat.columns[3:]]:
        value, bound = pl.col(name).cast(pl.Float64, strict=False), REQUESTS if name == "reopens" else MINUTES
        check(flat, pl.col(name).is_not_null() & (value.is_null() | bound.bad(value)), path,
              f"metric set: {name} must be {bound.expected()}: {{value}}", name)
    check(flat, pl.col("solved_at").is_not_null() & parse_utc(pl.col("solved_at")).is_null(), path,
          "metric set: solved_at is not a timestamp: {value}", "solved_at")
    return flat


def _tracked_seconds(path: str, data: bytes | None, field_id: int) -> pl.Series:
    """The Time Tracking field's seconds per ticket, in ticket order.

    Custom field values are text, numbers, booleans or lists depending on the field, which no one column type
    holds, so this one field is picked out of the parsed document in Python: a file holds a page of tickets
    (at most a thousand), not events.
    """
    doc = json.loads(read_bytes(path, data).decode("utf-8-sig"))
    seconds = []
    for i, ticket in enumerate(doc.get("tickets") or [], start=1):
        found = [f.get("value") for f in ticket.get("custom_fields") or [] if f.get("id") == field_id]
        value = found[0] if found else None
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
            raise SourceError(path, f"custom field {field_id} is not a number of seconds", row=i,
                              column="custom_fields")
        try:
            seconds.append(None if value in (None, "") else float(value))
        except ValueError:
            raise SourceError(path, f"custom field {field_id} is not a number of seconds: {value!r}", row=i,
                              column="custom_fields") from None
    return pl.Series("tracked_seconds", seconds, dtype=pl.Float64)


def _side(options: ZendeskOptions) -> str:
    return "business" if options.business_hours else "calendar"


def _elapsed(options: ZendeskOptions) -> pl.Expr:
    side = _side(options)
    total = pl.col(f"full_resolution_time_in_minutes.{side}").cast(pl.Float64)
    waited = pl.col(f"agent_wait_time_in_minutes.{side}").cast(pl.Float64).fill_null(0.0)
    return pl.when(total.is_not_null()).then(pl.max_horizontal(total - waited, pl.lit(0.0)))


SPEC = SourceSpec(
    kind="zendesk_tickets",
    table="work_items",
    summary="Zendesk tickets with their ticket metrics (API JSON with metric_sets)",
    doc="docs/sources/work_items.md",
    options=ZendeskOptions,
    plan=work_plan("zendesk_tickets", read),
)
