"""Work items made measurable: which requests named them, their minutes, and whether AI assisted them.

`work_item_links` rolls the requests that name a work item up per day (a chunked mart over events, like
usage_daily). `evidence_items` gives each work item one row: its day and ISO week, its minutes on the task's
basis, and whether it was AI-assisted (its record says so, else a request named it). `evidence_weekly` feeds the
charts. The comparison itself, with its intervals and verdicts, is transforms/evidence_stats.py; what each
figure means is docs/evidence.md.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.transforms.usage import priced_sum

HANDLING, ELAPSED = "handling", "elapsed"
RECORD, LINKED_RUN, NONE = "record", "linked_run", "none"
TASK_GRAIN, TEAM_GRAIN = "task", "task_team"


def work_item_links(usage: pl.LazyFrame) -> pl.LazyFrame:
    """Requests naming a work item, per UTC day, work item and the requests' task."""
    return (
        usage.filter(pl.col("work_item_id").is_not_null())
        .group_by(pl.col("event_time").dt.date().alias("day"), "work_item_id", "task")
        .agg(
            pl.col("request_count").sum().alias("requests"),
            pl.col("request_count").filter(pl.col("cost_usd").is_null()).sum().alias("unpriced_requests"),
            priced_sum("cost_usd"),
        )
        .sort("day", "work_item_id", "task")
    )


def item_day() -> pl.Expr:
    """The day an item counts on: the day it closed, or opened while it is still open."""
    return pl.coalesce(pl.col("closed_at"), pl.col("opened_at")).dt.date().alias("day")


def iso_week() -> pl.Expr:
    return pl.col("day").dt.truncate("1w").alias("week")


def elapsed_minutes() -> pl.Expr:
    """Turnaround as the work system measured it (Zendesk's business-hours resolution), else closed - opened."""
    between = (pl.col("closed_at") - pl.col("opened_at")).dt.total_seconds() / 60.0
    return pl.coalesce(pl.col("elapsed_minutes"), between).alias("elapsed_minutes")


def minutes_basis() -> pl.Expr:
    """Handling minutes where any item of the task has them (hands-on time is preferred), else elapsed: the two
    are never mixed within a task."""
    return (pl.when(pl.col("handling_minutes").is_not_null().any().over("task"))
            .then(pl.lit(HANDLING)).otherwise(pl.lit(ELAPSED)).alias("minutes_basis"))


def item_minutes() -> pl.Expr:
    return (pl.when(pl.col("minutes_basis") == HANDLING).then(pl.col("handling_minutes"))
            .otherwise(pl.col("elapsed_minutes")).alias("minutes"))


def ai_assisted() -> pl.Expr:
    """The record's own ai_assisted where it has one (false stays false), else whether a request named it."""
    return pl.coalesce(pl.col("ai_assisted"), pl.col("linked_requests") > 0).fill_null(False).alias("ai_assisted")


def ai_basis() -> pl.Expr:
    return (pl.when(pl.col("ai_assisted").is_not_null()).then(pl.lit(RECORD))
            .when(pl.col("linked_requests") > 0).then(pl.lit(LINKED_RUN)).otherwise(pl.lit(NONE)).alias("ai_basis"))


def in_period(since: date | None, until: date | None) -> pl.Expr:
    inside = pl.lit(True)
    if since is not None:
        inside = inside & (pl.col("day") >= since)
    if until is not None:
        inside = inside & (pl.col("day") <= until)
    return inside.fill_null(False).alias("in_period")


def latest_records(work_items: pl.LazyFrame) -> pl.LazyFrame:
    """One record per work item id: when two files hold the same id, the one that closed last (then the later
    source and file name) wins, so a re-export beside an older one counts the item once."""
    return (work_items.sort("closed_at", "x_source", "x_source_file", nulls_last=False)
            .unique("work_item_id", keep="last", maintain_order=True))


def evidence_items(work_items: pl.LazyFrame, links: pl.LazyFrame, since: date | None = None,
                   until: date | None = None) -> pl.LazyFrame:
    """One row per work item: day, week, minutes on its task's basis, AI assistance and its basis, quality."""
    linked = links.group_by("work_item_id").agg(
        pl.col("requests").sum().alias("linked_requests"), priced_sum("cost_usd").alias("linked_cost_usd"))
    return (
        latest_records(work_items)
        .join(linked, on="work_item_id", how="left")
        .with_columns(item_day(), elapsed_minutes(), minutes_basis(), ai_basis())
        .with_columns(iso_week(), item_minutes(), ai_assisted(), in_period(since, until),
                      pl.col("linked_requests").fill_null(0))
        .select("work_item_id", "task", "team", "day", "week", "handling_minutes", "elapsed_minutes",
                "minutes_basis", "minutes", "ai_assisted", "ai_basis", "linked_requests", "linked_cost_usd",
                "reopened", "escalated", "reverted", "csat", "in_period")
        .sort("task", "day", "work_item_id")
    )


def measured(items: pl.LazyFrame) -> pl.LazyFrame:
    """Items that count in a comparison: inside the period and with minutes on their task's basis."""
    return items.filter(pl.col("in_period") & pl.col("minutes").is_not_null())


def by_grain(items: pl.LazyFrame) -> pl.LazyFrame:
    """Every item once per task (team NULL, grain `task`) and once per task and team (items with a team)."""
    return pl.concat([
        items.with_columns(pl.lit(None, pl.String).alias("team"), pl.lit(TASK_GRAIN).alias("grain")),
        items.filter(pl.col("team").is_not_null()).with_columns(pl.lit(TEAM_GRAIN).alias("grain")),
    ])


def _side(expr: pl.Expr, ai: bool) -> pl.Expr:
    return expr.filter(pl.col("ai_assisted") if ai else ~pl.col("ai_assisted"))


def evidence_weekly(items: pl.LazyFrame) -> pl.LazyFrame:
    """Per ISO week, task (and task and team): items each side, AI share, median minutes each side."""
    return (
        by_grain(measured(items))
        .group_by("week", "task", "team", "grain")
        .agg(
            pl.col("ai_assisted").sum().alias("items_ai"),
            (~pl.col("ai_assisted")).sum().alias("items_baseline"),
            _side(pl.col("minutes"), True).median().alias("median_minutes_ai"),
            _side(pl.col("minutes"), False).median().alias("median_minutes_baseline"),
        )
        .with_columns(
            pl.col("items_ai", "items_baseline").cast(pl.Int64),
            (pl.col("items_ai") / (pl.col("items_ai") + pl.col("items_baseline"))).alias("ai_share"),
        )
        .select("week", "task", "team", "grain", "items_ai", "items_baseline", "ai_share", "median_minutes_ai",
                "median_minutes_baseline")
        .sort("task", "grain", "team", "week", nulls_last=False)
    )
