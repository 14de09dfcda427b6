"""The pipeline's graph, declared once: every step, what it depends on, and how it is partitioned.

Dagster's assets (pipelines/defs/assets.py), its jobs, schedules and sensors, the run plan of `aispend run`
(pipelines/plan.py) and the tests all read this list; nothing else writes the order down. A step is one of:
- `prices`, `tasks`: the dated price table and the task catalog, reloaded every run;
- `fx`: the dated exchange-rate table into the reporting currency (pipelines/fx.py), rebuilt every run and
  replaced when it changed; the marts that convert amounts depend on it;
- `load`: every source whose kind feeds the step's table (pipelines/sources/), by the step's partitions;
- `mart`: one transform of pipelines/marts.py (`MARTS[name]`), rebuilt whole or, partitioned, by its days;
- `alerts`: budget and anomaly alerts posted to the configured webhooks;
- `checks`, `publish`: the end of every run (every check over the data as it stands, then every snapshot).
Adding a mart is its transform, its entry in pipelines/marts.py and one line here (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

INGEST, MARTS = "ingest", "marts"
DAY, MONTH = "day", "month"


def _sum(column: str) -> Callable[[pl.DataFrame], dict]:
    return lambda frame: {column: float(frame[column].sum() or 0) if frame.height else 0.0}


def _count(column: str, label: str) -> Callable[[pl.DataFrame], dict]:
    return lambda frame: {label: int(frame[column].sum() or 0) if frame.height else 0}


def _none(frame: pl.DataFrame) -> dict:
    return {}


@dataclass(frozen=True)
class Step:
    name: str
    step: str                      # prices | tasks | fx | load | mart | alerts | checks | publish
    deps: tuple[str, ...]
    description: str
    grain: str | None = None       # day | month | None (rebuilt whole)
    summary: Callable[[pl.DataFrame], dict] = _none
    around: tuple[str, ...] = ()   # deps read a day either side of the step's days (runs across midnight)

    @property
    def group(self) -> str:
        return INGEST if self.step in ("prices", "tasks", "fx", "load") else MARTS


GRAPH: tuple[Step, ...] = (
    Step("prices", "prices", (), "Dated model prices: genai-prices' bundled table plus config overrides."),
    Step("tasks", "tasks", (), "The task catalog: what a run of each task is worth in people's time."),
    Step("fx_rates", "fx", (), "Exchange rates into the reporting currency: the ECB reference series "
         "(bundled, offline) and the config's fx_rates file, by published day.", None,
         lambda frame: {"rates_written": frame.height}),
    Step("cost_lines", "load", (), "Every billed line from the cost sources, in FOCUS 1.2 columns. Partitioned by "
         "billing month: a run reads the month units of its months, the day units inside them, and undated files.",
         MONTH),
    Step("usage_events", "load", ("prices",), "One row per model request from the usage logs, priced with the "
         "price in force on its date. Partitioned by UTC day: a run reads the day units of its days (and undated "
         "files).", DAY),
    # People, seats and what each person did with coding tools (docs/sources/seats_and_agents.md): small tables,
    # loaded every run (unchanged units are skipped).
    Step("people", "load", (), "Who is who: identities (emails, logins, API key names, machine users) mapped to a "
         "person and team."),
    Step("seats", "load", (), "Paid seats and subscriptions: seat assignments the vendor APIs list each day, and "
         "the subscriptions file."),
    Step("person_activity", "load", (), "Per person and UTC day: coding-tool activity, tokens and spend beyond the "
         "seat, as the vendors' organization APIs report them."),
    Step("spend_daily", "mart", ("cost_lines", "fx_rates"), "Billed and effective cost per day, provider, service, "
         "model, in the billing currency and the reporting currency.", MONTH, _sum("billed_cost")),
    Step("usage_daily", "mart", ("usage_events", "fx_rates"), "Requests, tokens and priced cost per day, provider, "
         "model, task, team.", DAY, _sum("cost_usd")),
    Step("allocated_cost", "mart", ("cost_lines", "usage_daily", "fx_rates"), "Billed AI cost allocated to tasks and "
         "teams by their priced usage per provider, model and day.", None, _sum("billed_cost_usd")),
    Step("task_daily", "mart", ("usage_events", "allocated_cost", "fx_rates"), "Runs, outcomes, priced and allocated "
         "cost per day, task, team.", DAY, _sum("runs"), around=("usage_events",)),
    Step("task_roi", "mart", ("task_daily", "tasks", "task_evidence"), "Per task: runs, successes, AI cost, human "
         "cost avoided, review cost, net savings, ROI; measured or estimated (roi_basis), break-even minutes.", None,
         _sum("net_savings_usd")),
    Step("reconciliation_logs_daily", "mart", ("usage_events", "fx_rates"), "The logs' side of the reconciliation "
         "per UTC day, provider and model: priced cost, requests, tokens, the unpriced part.", DAY,
         _sum("logged_cost_usd")),
    Step("reconciliation", "mart", ("cost_lines", "reconciliation_logs_daily", "fx_rates"), "Logs against invoices "
         "per provider, model and month or day, the gap in named parts.", None, _sum("difference_usd")),
    # model_whatif from per-day sums (docs/scaling.md): a run that adds a day rebuilds that day's sums only.
    Step("whatif_mix_daily", "mart", ("usage_events", "prices", "fx_rates"), "Tokens and priced cost per day, task, "
         "model, batch flag, service tier and prompt-size bucket: the mix model_whatif reprices.", DAY,
         _sum("cost_usd")),
    Step("whatif_runs_daily", "mart", ("usage_events", "fx_rates"), "Runs per start day, task and the model that "
         "served most of each: model_whatif's observed success rates.", DAY, _count("runs", "runs"),
         around=("usage_events",)),
    Step("model_whatif", "mart", ("whatif_mix_daily", "whatif_runs_daily", "tasks", "prices", "fx_rates"),
         "Each task's real token mix repriced on alternative models.", None, _sum("savings_usd")),
    Step("waste", "mart", ("usage_events", "cost_lines", "tasks", "prices", "fx_rates"), "Spend on failures, "
         "retries, interactive work that could be batch, missed caching, idle capacity, per day.", DAY,
         _sum("cost_usd"), around=("usage_events",)),
    Step("anomalies", "mart", ("usage_daily",), "Daily spend per provider, model and team against a robust "
         "baseline.", None, _count("is_anomaly", "anomalies")),
    Step("person_usage_daily", "mart", ("usage_events",), "Per user the logs name, UTC day, provider and source: "
         "requests, sessions, priced cost, unpriced tokens (what person_monthly and idle_seats read).", DAY,
         _sum("requests")),
    Step("source_daily", "mart", ("usage_events",), "Per UTC day, source, provider and model: rows, requests, "
         "tokens, how much of them is priced, the newest event (what the usage checks read).", DAY, _sum("requests")),
    Step("person_monthly", "mart", ("people", "seats", "person_activity", "person_usage_daily", "cost_lines",
                                    "prices", "fx_rates"),
         "Every person's AI bill per month and vendor: seat, usage billed beyond it, API-equivalent value, activity, "
         "idle seats, plan fit.", None, _sum("seat_cost_usd")),
    Step("idle_seats", "mart", ("people", "seats", "person_activity", "person_usage_daily", "fx_rates"), "Seats paid for "
         "that nobody used in the last 30 days, with what they cost.", None, lambda frame: {"idle_seats": frame.height}),
    Step("budget_status", "mart", ("allocated_cost", "person_monthly"), "Each configured budget this month: actual, forecast, "
         "thresholds.", None, lambda frame: {"over_or_warning": int(frame.filter(pl.col("status") != "ok").height)}),
    Step("spend_forecast", "mart", ("allocated_cost", "person_monthly"), "Month-end forecast with a range, per "
         "total, provider and team."),
    # Measured time saved (docs/evidence.md)
    Step("work_items", "load", ("tasks",), "Work records (tickets, pull requests, issues) from the work-record "
         "sources, each naming a catalog task. Unpartitioned: every run reads new or changed files."),
    Step("work_item_links", "mart", ("usage_events", "fx_rates"), "Requests naming a work item, per day, work item "
         "and task.", DAY, _count("requests", "requests")),
    Step("evidence_items", "mart", ("work_items", "work_item_links"), "One row per work item: its minutes, week, "
         "and whether AI assisted it (its record, else a request naming it)."),
    Step("task_evidence", "mart", ("evidence_items", "task_daily", "tasks"), "Per task (and team): AI-assisted "
         "against baseline minutes with a 95% interval, quality changes, a verdict, measured net savings.", None,
         lambda frame: {"measured_tasks": int(frame.filter(pl.col("team").is_null()
                                                           & (pl.col("verdict") != "insufficient_evidence")).height)}),
    Step("task_evidence_weekly", "mart", ("evidence_items",), "Per week and task: items each side, AI share, "
         "median minutes (the Evidence page's charts)."),
    # finance (docs/finance.md)
    Step("changes_after_close", "mart", ("cost_lines", "fx_rates"), "Per closed month, each AI line the data now "
         "has that differs from the line as closed, with the amount.", None,
         lambda frame: {"changed_lines": frame.height}),
    Step("chargeback", "mart", ("allocated_cost", "person_monthly"), "Per month and team: direct, seats and shared "
         "cost, adding up to the month's AI spend to the cent.", None, _sum("total_cost")),
    Step("month_to_date", "mart", ("allocated_cost", "usage_daily"), "The open month per provider: invoiced so "
         "far and, apart, the expected rest from uninvoiced logged usage.", None, _sum("expected_rest")),
    Step("alerts_sent", "alerts", ("budget_status", "anomalies"), "Budget and anomaly alerts posted to the "
         "configured webhooks; never the same alert twice."),
)

# The end of every run, after every other step (so after steps added above too): every check evaluated over the
# data as it stands and stored, then every snapshot published again, so a run killed between a table's write and
# its snapshot leaves nothing stale after the next run (docs/operations.md, "After a crash").
GRAPH += (
    Step("check_results", "checks", tuple(s.name for s in GRAPH if s.step == "mart"), "The latest verdict of every "
         "check over the data as it stands: what failed, since when, and the first offending rows.", None,
         lambda frame: {"failed": int(frame.filter(~pl.col("passed")).height)}),
    Step("snapshots", "publish", tuple(s.name for s in GRAPH if not any(s.name in t.deps for t in GRAPH))
         + ("check_results",), "Every table the dashboard reads, published again as a snapshot."),
)

BY_NAME: dict[str, Step] = {s.name: s for s in GRAPH}


def loaded_tables(name: str) -> list[str]:
    """The source-fed tables a step reads from, directly or through other steps: a change to their rows on a day
    means the step's rows of that day may change."""
    step = BY_NAME[name]
    if step.step in ("load", "fx", "tasks"):  # fx_rates records the days whose rates changed, like a load, and a
        return [name]                           # new task catalog every day (it may change any day's rows)
    return sorted({t for dep in step.deps for t in loaded_tables(dep)})
