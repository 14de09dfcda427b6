"""Running one step of the graph over the warehouse, with or without Dagster.

A Dagster asset (pipelines/defs/assets.py) and the in-process runner the tests use (pipelines/plan.py) both call
`run_step`; it loads or builds, publishes the dashboard's snapshot of what it wrote, and returns what happened.
Loads hold the warehouse only while they write each unit; the other steps hold it for their build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from pipelines import checks, loads, marts, timings
from pipelines.alerts import send_due_alerts
from pipelines.config import AispendConfig
from pipelines.crashpoint import reached
from pipelines.errors import SourceError
from pipelines.fx import load_fx_rates
from pipelines.graph import BY_NAME, DAY, loaded_tables
from pipelines.ingest import FileResult, Log
from pipelines.plan import widened
from pipelines.planning import mark_built, stale_days, utc_today
from pipelines.reads import ALL_DAYS
from pipelines.snapshots import publish as _publish
from pipelines.snapshots import republish
from pipelines.sources.units import Window
from warehouse.db import Warehouse, connect_writer


# Tables only the command line writes (`aispend close`), published with the mart that reads them, so that every
# run publishes every snapshot the dashboard reads (docs/finance.md).
ALSO_PUBLISHED = {"changes_after_close": ("closed_months",)}


class TransientFailure(Exception):
    """Some units could not be fetched (S3 or network trouble); everything else loaded. Worth a retry."""


class StepFailure(Exception):
    """A step that must not go on: its input was refused (a bad task catalog)."""


@dataclass
class StepResult:
    frame: pl.DataFrame | None = None              # what a mart or catalog step wrote
    results: list[FileResult] = field(default_factory=list)  # what a load read, unit by unit


def partition_bounds(config: AispendConfig, today: date | None = None) -> Window:
    """The days partitions exist for: the config's start_date through today (UTC)."""
    return config.start_date, (today or utc_today()) + timedelta(days=1)


# With AISPEND_TIMINGS=1 a step logs its seconds, the seconds it spent publishing and, for loads, each
# source's parts (pipelines/timings.py); otherwise these are the plain functions.
publish = timings.timed("publish", _publish)


def run_step(name: str, config: AispendConfig, window: Window | None = None, log: Log = lambda m: None,
             *, wait_s: float | None = None) -> StepResult:
    """Run step `name` (over `window`'s days when it is partitioned and a window is given)."""
    with timings.step(name, log):
        return _run_step(name, config, window, log, wait_s=wait_s)


def _run_step(name: str, config: AispendConfig, window: Window | None, log: Log, *, wait_s: float | None
              ) -> StepResult:
    step = BY_NAME[name]
    options = {} if wait_s is None else {"wait_s": wait_s}
    if step.step == "load":
        db = Warehouse(config.warehouse_path, **options)
        results = loads.load_table(db, config, name, log, window)
        reached(f"committed:{name}")
        with db.connect() as con:
            publish(con, config)
        failed = [r for r in results if r.status == "failed"]
        if failed:
            listed = "; ".join(r.error or r.location for r in failed[:5])
            raise TransientFailure(f"{len(failed)} unit(s) failed transiently and were not loaded: {listed}")
        return StepResult(results=results)
    con = connect_writer(config.warehouse_path, **options)
    try:
        if step.step == "prices":
            frame, _ = loads.load_prices(con, config, log)
        elif step.step == "tasks":
            result = loads.load_tasks(con, config, log)
            publish(con, config, name)
            if result is not None and result.status == "quarantined":
                raise StepFailure(result.error)
            return StepResult(results=[result] if result else [])
        elif step.step == "fx":
            try:
                frame = load_fx_rates(con, config, log)
            except SourceError as exc:
                raise StepFailure(exc.message) from exc
            publish(con, config, "fx_latest")  # the newest rate per currency; the whole table stays in DuckDB
            return StepResult(frame=frame)
        elif step.step == "alerts":
            return StepResult(frame=send_due_alerts(con, config, log))
        elif step.step == "checks":
            frame = checks.record(con, config)
        elif step.step == "publish":
            republish(con, config)
            return StepResult()
        else:
            window = _with_owed_days(con, name, config, window)
            frame = marts.build(con, config, name, window, on_written=_caught_up(name, config, window),
                                log=log)
        reached(f"committed:{name}")
        publish(con, config, name, *ALSO_PUBLISHED.get(name, ()))
        return StepResult(frame=frame)
    finally:
        con.close()


def _with_owed_days(con, name: str, config: AispendConfig, window: Window | None) -> Window | None:
    """A mart by days also rebuilds every day it still owes (`planning.stale_days`): `aispend run` plans those
    days already, but the Dagster schedule asks for the last two days only, and a new task catalog or a
    re-delivered bill may have changed older ones (docs/operations.md, "After a crash")."""
    step = BY_NAME[name]
    if step.grain != DAY or window is None:
        return window
    bounds = partition_bounds(config)
    owed = widened(stale_days(con, name, loaded_tables(name)), step, bounds)
    if owed is None:
        return window
    start, end = min(window[0], max(owed[0], bounds[0])), max(window[1], min(owed[1], bounds[1]))
    return (start, end) if start < end else window


def _caught_up(name: str, config: AispendConfig, window: Window | None):
    """For a mart built by days: record, with its rows, that it has rebuilt the changes its window covered."""
    if BY_NAME[name].grain is None:
        return None
    return lambda con: mark_built(con, name, loaded_tables(name), window or ALL_DAYS, partition_bounds(config))
