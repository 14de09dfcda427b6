"""Tasks: per task, what the AI cost against the people's time it saved, and one task's trend.

The task table is the task_roi mart computed for the period and team asked for: the same transform
(`pipelines.transforms.roi.task_roi`) over the period's task_daily totals, so the page and the mart can never
disagree and the table has exactly the mart's columns (warehouse/README.md, task_roi). Where work records
measured a task (task_evidence), its measured net savings are the period's AI-assisted items times the measured
minutes saved, less the period's AI cost and review (docs/evidence.md).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboard.data.period import Filters, Period
from dashboard.data.evidence import evidence, items_ai
from dashboard.data.finance import reporting_currency
from dashboard.data.snapshots import cached, read, snapshot_stamp
from pipelines.transforms.roi import task_roi
from warehouse import schema


def task_table(snapshot_dir: str | Path, period: Period, team: str | None = None) -> pl.DataFrame:
    """Per task active in the period: outcomes, AI cost (priced from logs, and allocated from invoices), people's
    time avoided and spent, net savings and ROI on each cost.

    Sorted by reported net savings (measured where work records measure the task, else the catalog's estimate),
    best first, on allocated cost (the invoice-true one; the logs' cost stands in where no invoice is loaded). A
    catalog task that neither ran nor was billed is left out. Amounts are in the reporting currency, which
    `currency` names, as in the task_roi mart.
    """
    totals = read(snapshot_dir, "task_totals", "task_daily", [period.start, period.end, team, team])
    catalog = read(snapshot_dir, "task_catalog", "tasks")
    measured, items = evidence(snapshot_dir, team), items_ai(snapshot_dir, period, team)
    tables = ("task_daily", "tasks", "task_evidence", "evidence_items")
    key = ("task_table", str(snapshot_dir), snapshot_stamp(snapshot_dir, tables), period, team)
    return cached(key, lambda: (
        task_roi(totals.lazy(), catalog.lazy(), measured.lazy(), items.lazy())
        .filter((pl.col("runs") > 0) | (pl.col("allocated_cost_usd").fill_null(0) != 0))
        .sort("reported_net_savings_usd", "task", descending=[True, False], nulls_last=True)
        .with_columns(pl.lit(reporting_currency(snapshot_dir), pl.String).alias("currency"))
        .select(schema.table_schema("task_roi").keys())  # in the mart's order (its migrations')
        .collect()
    ))


def teams(snapshot_dir: str | Path) -> list[str]:
    """Teams that ran tasks or hold seats and tools."""
    return read(snapshot_dir, "teams", ("task_daily", "person_monthly"))["team"].to_list()


def task_names(snapshot_dir: str | Path) -> list[str]:
    return read(snapshot_dir, "task_names", "task_daily")["task"].to_list()


def task_trend(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """One task per day: runs, successes, allocated cost (reporting currency) and allocated cost per success."""
    return read(snapshot_dir, "task_trend", "task_daily", [f.period.start, f.period.end, f.task, f.team, f.team])
