"""`aispend run` and `aispend demo`'s pipeline: every asset through Dagster, in dependency order, by partition.

A Dagster run covers one partitioning, so a whole run is a few runs in order: prices and the task catalog;
cost_lines over the billing months that have new or changed units; usage_events over such days; the daily
marts over the days (months) whose rows changed; then the unpartitioned rollups. Each partitioned run covers
its whole range at once (the range tags a single-run backfill uses), so the warehouse is opened per unit, not
per day. With --from/--to it backfills exactly that range (days for usage, the months touching it for billing).
Dagster is imported only here, after the config has been checked: the import takes 10-25 s.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from pipelines.config import AispendConfig, load_config
from pipelines.ingest import Window

# Dagster marks backfill policies and partition mappings as beta; that is for us to track, not for the person
# reading `aispend run`'s progress.
warnings.filterwarnings("ignore", message=r".*is currently in beta", category=Warning)

Say = Callable[[str], None]
PARTITIONED_ORDER = ("cost_lines", "usage_events", "spend_daily", "usage_daily", "allocated_cost", "task_daily")


def say(message: str) -> None:
    print(f"[aispend] {message}", file=sys.stderr, flush=True)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def months_covering(window: Window) -> Window:
    """The billing months a window of days touches, as a window of whole months."""
    return _month_start(window[0]), _next_month(window[1] - timedelta(days=1))


def clamp(window: Window | None, first: date, last: date, what: str, log: Say) -> Window | None:
    """Keep a window inside the partitions that exist (start_date .. today); say what falls outside."""
    if window is None:
        return None
    start, end = max(window[0], first), min(window[1], last)
    if (start, end) != window:
        log(f"{what}: data dated {window[0]}..{window[1] - timedelta(days=1)} reaches outside the partitions "
            f"{first}..{last - timedelta(days=1)} (config start_date .. today); that part is not read")
    return (start, end) if start < end else None


@dataclass
class PipelineResult:
    """Every Dagster run a pipeline run made, with the verdicts `aispend run` reports."""

    runs: list = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.runs)

    def get_asset_check_evaluations(self) -> list:
        return [c for r in self.runs for c in r.get_asset_check_evaluations()]

    @property
    def failed_steps(self) -> list[str]:
        return [e.step_key for r in self.runs for e in r.all_events if e.is_step_failure]


def materialize_pipeline(
    config_path: str | Path,
    start: date | None = None,
    end: date | None = None,
    log: Say = say,
    *,
    today: date | None = None,
) -> PipelineResult:
    """Run every asset in order; with start/end (inclusive) backfill that range, else what changed."""
    import dagster as dg

    from pipelines import steps
    from pipelines.defs.assets import build_assets
    from pipelines.defs.checks import ASSET_CHECKS
    from pipelines.defs.partitions import range_tags
    from pipelines.defs.resources import AispendResource
    from warehouse.db import Warehouse

    config_path = str(Path(config_path).resolve())
    config = load_config(config_path)
    assets = build_assets(config.start_date)
    resources = {"aispend": AispendResource(config_path=config_path)}
    db = Warehouse(config.warehouse_path)
    today = today or datetime.now(timezone.utc).date()
    first_day, last_day = config.start_date, today + timedelta(days=1)
    out = PipelineResult()

    def run(names: list[str], window: Window | None = None, grain: str = "day") -> None:
        if not names:
            return
        if window is None:
            keys, tags, label = None, {}, ""
        else:
            last = window[1] - timedelta(days=1)
            first_key = window[0].isoformat() if grain == "day" else _month_start(window[0]).isoformat()
            last_key = last.isoformat() if grain == "day" else _month_start(last).isoformat()
            keys, tags = (first_key, {}) if first_key == last_key else (None, range_tags(first_key, last_key))
            label = f" [{first_key}]" if first_key == last_key else f" [{first_key} .. {last_key}]"
        log(f"running {', '.join(names)}{label}")
        began = time.monotonic()
        out.runs.append(dg.materialize(
            [*assets, *ASSET_CHECKS], selection=names, resources=resources, partition_key=keys, tags=tags,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}}, raise_on_error=False,
        ))
        log(f"  {'done' if out.runs[-1].success else 'FAILED'} in {time.monotonic() - began:.1f} s")

    run(["prices", "tasks"])
    began = time.monotonic()
    cost_todo, usage_todo = steps.pending(db, config, "cost_lines"), steps.pending(db, config, "usage_events")
    log(f"planned: {len(cost_todo.partitions)} billing months and {len(usage_todo.partitions)} days with new or "
        f"changed units, {len(cost_todo.undated) + len(usage_todo.undated)} changed undated files "
        f"({time.monotonic() - began:.1f} s)")
    if start is not None and end is not None:
        usage_window: Window | None = (start, end + timedelta(days=1))
        cost_window: Window | None = months_covering(usage_window)
    else:
        usage_window = usage_todo.window()
        cost_window = months_covering(cost_todo.window()) if cost_todo.partitions else None
    # Undated files are read by any partition run; their rows may sit on any day, so the marts rebuild the days
    # their rows covered before and after.
    cost_before = steps.rows_span(db, "cost_lines", cost_todo.undated)
    usage_before = steps.rows_span(db, "usage_events", usage_todo.undated)
    if cost_window is None and cost_todo.undated:
        cost_window = months_covering(cost_before or (today, today + timedelta(days=1)))
    if usage_window is None and usage_todo.undated:
        usage_window = usage_before or (today, today + timedelta(days=1))
    month_bounds = (_month_start(first_day), _next_month(today))
    cost_window = clamp(cost_window, *month_bounds, "cost_lines", log)
    usage_window = clamp(usage_window, first_day, last_day, "usage_events", log)

    if cost_window:
        run(["cost_lines"], cost_window, "month")
    if usage_window:
        run(["usage_events"], usage_window)
    spend_window = steps.hull(cost_window, cost_before, steps.rows_span(db, "cost_lines", cost_todo.undated))
    usage_mart_window = steps.hull(usage_window, usage_before, steps.rows_span(db, "usage_events", usage_todo.undated))
    spend_window = clamp(months_covering(spend_window) if spend_window else None, *month_bounds, "spend_daily", log)
    usage_mart_window = clamp(usage_mart_window, first_day, last_day, "usage_daily", log)
    if spend_window:
        run(["spend_daily"], spend_window, "month")
    if usage_mart_window:
        run(["usage_daily"], usage_mart_window)
    run(["allocated_cost"])
    if usage_mart_window:
        run(["task_daily"], usage_mart_window)
    rest = [a.key.to_user_string() for a in assets
            if a.partitions_def is None and a.key.to_user_string() not in ("prices", "tasks", "allocated_cost")]
    run(rest)
    return out


def run_pipeline(config_path: str | Path, start: date | None = None, end: date | None = None) -> int:
    """Materialize every asset through Dagster, in process; 0 only when every step and error check passed."""
    config_path = str(Path(config_path).resolve())
    config = load_config(config_path)  # fail fast, before the slow import, on a bad config
    say(f"config {config_path}: {len(config.sources)} sources, warehouse {config.warehouse_path}")
    if (start is None) != (end is None) or (start and end and start > end):
        say("give both --from and --to, with --from not after --to")
        return 2
    started = time.monotonic()
    run_started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    say("loading Dagster (10-25 s on a small machine)...")
    import dagster as dg

    from pipelines.defs.assets import ALL_ASSETS

    scope = f"backfilling {start} .. {end}" if start else "new and changed partitions"
    say(f"running {len(ALL_ASSETS)} assets ({scope}): {', '.join(a.key.to_user_string() for a in ALL_ASSETS)}")
    result = materialize_pipeline(config_path, start, end)
    failed_checks = [
        f"{c.asset_key.to_user_string()}:{c.check_name}"
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ]
    warnings = [
        f"{c.asset_key.to_user_string()}:{c.check_name}"
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.severity == dg.AssetCheckSeverity.WARN
    ]
    _print_summary(config, run_started_at)
    say(f"finished in {time.monotonic() - started:.0f} s ({len(result.runs)} Dagster runs)")
    for name in warnings:
        say(f"warning: check {name} did not pass")
    if result.failed_steps or failed_checks or not result.success:
        for step in result.failed_steps:
            say(f"FAILED step {step}")
        for name in failed_checks:
            say(f"FAILED check {name}")
        return 1
    return 0


def _print_summary(config: AispendConfig, since: datetime) -> None:
    from warehouse.db import connect_writer, query, sql

    con = connect_writer(config.warehouse_path)
    try:
        s = query(con, sql("run_summary")).to_dicts()[0]
        quarantined = query(con, sql("recent_quarantined"), [since])
    finally:
        con.close()
    coverage = 1 - s["unpriced_requests"] / s["requests"] if s["requests"] else 1.0
    say(
        f"cost_lines: {s['cost_lines']:,} lines, billed ${s['billed_usd']:,.2f} USD "
        f"(effective ${s['effective_usd']:,.2f}){' in ' + str(s['currencies']) + ' currencies' if s['currencies'] > 1 else ''}"
    )
    say(
        f"usage_events: {s['requests']:,} requests, priced ${s['usage_cost_usd']:,.2f}, "
        f"price coverage {coverage:.1%} ({s['unpriced_requests']:,} unpriced, not counted as $0)"
    )
    say(f"task_roi: {s['tasks']} catalog tasks, net savings ${s['net_savings_usd']:,.2f}")
    say(f"snapshots for the dashboard: {config.snapshot_path}")
    if quarantined.height:
        say("quarantined in this run (nothing of them was loaded; see ingest_log):")
        for row in quarantined.to_dicts():
            say(f"  {row['error']}")
