"""`aispend run` and `aispend demo`'s pipeline: the run plan (pipelines/plan.py) through Dagster, stage by stage.

A whole run is one Dagster run per stage of the plan, each over the days the plan works out just before it, all
at once (so the warehouse is opened per unit, not per day). The assets are built unpartitioned for it, each run
naming its days in tags (pipelines/defs/assets.py): its Dagster instance lives in memory and ends with the
process, so a materialization per asset and day would be bookkeeping no one reads. With --from/--to it backfills
exactly that range (days for usage, the months touching it for billing) and whatever is still owed.
Dagster is imported only here, after the config has been checked: the import takes 10-25 s.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from pipelines.config import AispendConfig, load_config
from pipelines.crashpoint import reached

# Dagster marks backfill policies and partition mappings as beta; that is for us to track, not for the person
# reading `aispend run`'s progress.
warnings.filterwarnings("ignore", message=r".*is currently in beta", category=Warning)

Say = Callable[[str], None]


def say(message: str) -> None:
    print(f"[aispend] {message}", file=sys.stderr, flush=True)


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
    """Run the plan's stages in order; with start/end (inclusive) backfill that range, else what changed."""
    import dagster as dg

    from pipelines.defs.assets import build_assets
    from pipelines.defs.checks import ASSET_CHECKS
    from pipelines.defs.partitions import window_tags
    from pipelines.defs.resources import AispendResource
    from pipelines.graph import DAY
    from pipelines.plan import Planner, month_start, stages

    config_path = str(Path(config_path).resolve())
    config = load_config(config_path)
    # Unpartitioned, each run naming its days in tags: per asset one materialization, not one per day, which
    # nothing reads in an instance that ends with the process (pipelines/defs/assets.py).
    assets = build_assets(config.start_date, partitioned=False)
    resources = {"aispend": AispendResource(config_path=config_path)}
    backfill = (start, end + timedelta(days=1)) if start is not None and end is not None else None
    planner = Planner(config, log, backfill, today)
    out = PipelineResult()
    # One in-memory instance for every stage: each `materialize` would otherwise set up its own (half a second
    # each here, and a run has six to eight stages); nothing outlives the process either way.
    with dg.DagsterInstance.ephemeral() as instance:
        for stage in stages():
            began = time.monotonic()
            window = planner.window(stage)
            if stage.grain is not None and window is None:
                continue
            tags, label = {}, ""
            if window is not None:
                key = (lambda d: d.isoformat()) if stage.grain == DAY else (lambda d: month_start(d).isoformat())
                first_key, last_key = key(window[0]), key(window[1] - timedelta(days=1))
                tags = window_tags(window)
                label = f" [{first_key}]" if first_key == last_key else f" [{first_key} .. {last_key}]"
            reached(f"before:{stage.steps[0]}")
            log(f"running {', '.join(stage.steps)}{label}")
            out.runs.append(dg.materialize(
                [*assets, *ASSET_CHECKS], selection=list(stage.steps), resources=resources, tags=tags,
                instance=instance, run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
                raise_on_error=False,
            ))
            log(f"  {'done' if out.runs[-1].success else 'FAILED'} in {time.monotonic() - began:.1f} s")
    return out


def run_pipeline(config_path: str | Path, start: date | None = None, end: date | None = None) -> int:
    """Materialize every asset through Dagster, in process; 0 only when every step and error check passed."""
    config_path = str(Path(config_path).resolve())
    config = load_config(config_path)  # fail fast, before the slow import, on a bad config
    say(f"config {config_path}: {len(config.sources)} sources, warehouse {config.warehouse_path}")
    if (start is None) != (end is None) or (start and end and start > end):
        say("give both --from and --to, with --from not after --to")
        return 2
    refused = preflight(config)
    if refused:
        say(refused)
        return 2
    started = time.monotonic()
    run_started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    say("loading Dagster (10-25 s on a small machine)...")
    from pipelines.graph import GRAPH

    scope = f"backfilling {start} .. {end}" if start else "new and changed partitions"
    say(f"running {len(GRAPH)} assets ({scope}): {', '.join(s.name for s in GRAPH)}")
    result = materialize_pipeline(config_path, start, end)
    results = _print_summary(config, run_started_at)
    say(f"finished in {time.monotonic() - started:.0f} s ({len(result.runs)} Dagster runs)")
    return _verdict(result, results, run_started_at)


def preflight(config: AispendConfig) -> str | None:
    """Why a run cannot start (no sources, a warehouse folder it cannot write), before Dagster is imported."""
    if not config.sources:
        return "the config names no sources: nothing to read (add a `sources:` list; see README.md)"
    for what, folder in (("warehouse", config.warehouse_path.parent), ("snapshot folder", config.snapshot_path)):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".aispend-write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            return f"cannot write the {what} at {folder}: {exc.strerror or exc} (change `{'warehouse' if what == 'warehouse' else 'snapshot_dir'}` in the config, or the folder's permissions)"
    return None


def _verdict(result: PipelineResult, results, since: datetime) -> int:
    """The exit code: 1 when a step failed or an error-level check fails over the data as it stands."""
    from pipelines.checks import ERROR, WARN, failing

    current = results is not None and results.height and results["evaluated_at"].min() >= since
    if results is not None and results.height:
        for row in failing(results, WARN):
            say(f"warning: check {row['asset']}:{row['check_name']}: {row['description']}")
    errors = failing(results, ERROR) if current else []
    for step in result.failed_steps:
        say(f"FAILED step {step}")
    if not current:
        say("FAILED: the checks were not evaluated in this run (a step before them failed)")
    for row in errors:
        say(f"FAILED check {row['asset']}:{row['check_name']}: {row['description']}")
    return 1 if result.failed_steps or not result.success or errors or not current else 0


def _money(total: float | None, lines_without: int, lines: int, what: str, currency: str = "USD") -> str:
    """A cost total as a finance reader needs it: unknown is said, never printed as 0."""
    from pipelines.finance.money import money

    if total is None:
        return f"{what}: not in these exports (unknown, not 0)" if lines else f"{what} {money(0.0, currency)} {currency}"
    if lines_without:
        return (f"{what} {money(total, currency)} {currency} ({lines_without:,} of {lines:,} lines have no {what} "
                "cost: unknown, not $0)")
    return f"{what} {money(total, currency)} {currency}"


def _print_summary(config: AispendConfig, since: datetime):
    """Print the headline totals, what was quarantined and why; return the stored check results."""
    from pipelines.finance.money import money
    from warehouse.db import connect_writer, query, sql

    con = connect_writer(config.warehouse_path)
    try:
        s = query(con, sql("run_summary")).to_dicts()[0]
        quarantined = query(con, sql("recent_quarantined"), [since])
        results = query(con, "SELECT * FROM check_results")
    finally:
        con.close()
    coverage = 1 - s["unpriced_requests"] / s["requests"] if s["requests"] else 1.0
    currency = config.reporting_currency
    if currency == "USD" and s["currencies"] <= 1:
        billed = _money(s["billed_usd"], s["lines_without_billed"], s["usd_lines"], "billed")
        effective = _money(s["effective_usd"], s["lines_without_effective"], s["usd_lines"], "effective")
        say(f"cost_lines: {s['cost_lines']:,} lines, {billed}, {effective}")
    else:
        billed = _money(s["billed_reporting"], s["all_lines_without_billed"], s["cost_lines"], "billed", currency)
        effective = _money(s["effective_reporting"], s["all_lines_without_effective"], s["cost_lines"], "effective",
                           currency)
        say(f"cost_lines: {s['cost_lines']:,} lines in {s['currencies']} currencies, {billed}, {effective} (in "
            f"{currency}, the reporting currency, each line at its charge day's rate)")
    say(
        f"usage_events: {s['requests']:,} requests, priced ${s['usage_cost_usd']:,.2f} USD (list prices), "
        f"price coverage {coverage:.1%} ({s['unpriced_requests']:,} unpriced, not counted as $0)"
    )
    say(f"task_roi: {s['tasks']} catalog tasks, net savings {money(s['net_savings_usd'], currency)} (the catalog's "
        "estimate, priced logs)")
    if s["measured_tasks"]:
        say(f"  on allocated cost, measured where work records measure a task: "
            f"{money(s['reported_net_savings_usd'], currency)}, of it {money(s['measured_net_savings_usd'], currency)}"
            f" measured on {s['measured_tasks']} task(s)")
    say(f"snapshots for the dashboard: {config.snapshot_path}")
    if quarantined.height:
        say("quarantined in this run (nothing of them was loaded; see ingest_log):")
        for row in quarantined.to_dicts():
            say(f"  {row['error']}")
    return results
