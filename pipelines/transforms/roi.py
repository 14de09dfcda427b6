"""Runs, outcomes and the return on each task: what the AI cost against what the same work costs people.

A run is one execution of a task: the requests sharing a run_id (a request with no run_id is a run of its own).
Its outcome is the last outcome any of its requests logged; a run with none is counted but neither a success
nor a failure. `ai_cost_usd` is the priced request cost from the logs; unpriced requests are counted, never $0.

`allocated_cost_usd` is the invoice's AI cost shared to the task (transforms/allocate.py): invoice-true where
invoices exist, the logs' cost where they don't. task_roi computes cost per success, net savings and ROI on both,
and ranks the tasks where AI loses money on the allocated figure.

Every figure says what it rests on (docs/evidence.md): `roi_basis` is `measured` where task_evidence reached a
verdict from the organization's own work items, else `catalog_estimate` (the catalog's human_minutes); the
measured figures sit beside the estimated ones, and `break_even_minutes` says how many minutes a run must save to
pay for itself, so an estimate can be judged by how far it may be wrong.
"""

from __future__ import annotations

import polars as pl

from pipelines.schemas import UNATTRIBUTED
from pipelines.transforms.usage import priced_sum

TASK_DAILY_KEYS = ["day", "task", "team"]


def run_key() -> pl.Expr:
    """What keys a run: its run_id, else its request_id, else its row (a run of its own)."""
    return pl.coalesce("run_id", "request_id").map_batches(_each_row_a_run, return_dtype=pl.String).alias("run_key")


def _each_row_a_run(keys: pl.Series) -> pl.Series:
    """Keys missing filled with `row-<position>`. Only when some are missing: written for every row of a chunk
    of 2.5M events it cost more than the rest of the key (bench/README.md)."""
    if keys.null_count() == 0:
        return keys
    return keys.fill_null(pl.concat_str(pl.lit("row-"), pl.int_range(keys.len(), eager=True).cast(pl.String)))


def runs(usage: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (task, run): its first day and team, outcome, requests and priced cost."""
    return (
        usage.with_columns(run_key())
        .sort("event_time")
        .group_by("task", "run_key")
        .agg(
            pl.col("event_time").min().dt.date().alias("day"),
            pl.col("team").drop_nulls().first().alias("team"),
            pl.col("outcome").drop_nulls().last().alias("outcome"),
            pl.col("request_count").sum().alias("requests"),
            pl.col("request_count").filter(pl.col("status") == "error").sum().alias("error_requests"),
            pl.col("request_count").filter(pl.col("cost_usd").is_null()).sum().alias("unpriced_requests"),
            priced_sum("cost_usd").alias("ai_cost_usd"),
        )
    )


def allocated_daily(allocated: pl.LazyFrame) -> pl.LazyFrame:
    """allocated_cost per (day, task, team), every basis together (billed, USD; NULL where nothing was priced)."""
    return allocated.group_by(TASK_DAILY_KEYS).agg(priced_sum("billed_cost_usd").alias("allocated_cost_usd"))


def task_daily(usage: pl.LazyFrame, allocated: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Runs per day, task and team; with `allocated` (the allocated_cost mart) also the allocated cost.

    Allocated cost sits on the day its requests (or billed lines) fell on, runs on the day they started: a
    (day, task, team) with allocated cost and no run that day gets a row with zero runs.
    """
    daily = _task_daily_runs(usage)
    if allocated is None:
        return daily
    counts = ["runs", "successes", "failures", "requests", "error_requests", "unpriced_requests"]
    return (
        daily.join(allocated_daily(allocated), on=TASK_DAILY_KEYS, how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col(c).fill_null(0) for c in counts)
        .sort(TASK_DAILY_KEYS, nulls_last=True)
    )


def _task_daily_runs(usage: pl.LazyFrame) -> pl.LazyFrame:
    return (
        runs(usage)
        .group_by(TASK_DAILY_KEYS)
        .agg(
            pl.len().alias("runs"),
            (pl.col("outcome") == "success").sum().alias("successes"),
            (pl.col("outcome") == "failure").sum().alias("failures"),
            pl.col("requests").sum(),
            pl.col("error_requests").sum(),
            pl.col("unpriced_requests").sum(),
            priced_sum("ai_cost_usd"),
        )
        .with_columns(
            pl.col(c).cast(pl.Int64)
            for c in ["runs", "successes", "failures", "requests", "error_requests", "unpriced_requests"]
        )
        .sort(TASK_DAILY_KEYS, nulls_last=True)
    )


def hourly_cost(minutes: str) -> pl.Expr:
    """Cost of `minutes` of a person's time per run; 0 for a task the catalog doesn't value."""
    return (pl.col(minutes) / 60.0 * pl.col("hourly_rate_usd")).fill_null(0.0)


def human_cost_avoided_usd() -> pl.Expr:
    return (pl.col("successes") * hourly_cost("human_minutes")).alias("human_cost_avoided_usd")


def review_cost_usd() -> pl.Expr:
    return (pl.col("runs") * hourly_cost("review_minutes")).alias("review_cost_usd")


def net_savings_usd() -> pl.Expr:
    return (pl.col("human_cost_avoided_usd") - pl.col("ai_cost_usd") - pl.col("review_cost_usd")).alias(
        "net_savings_usd"
    )


def allocated_net_savings_usd() -> pl.Expr:
    return (pl.col("human_cost_avoided_usd") - pl.col("allocated_cost_usd") - pl.col("review_cost_usd")).alias(
        "allocated_net_savings_usd"
    )


def loses_money() -> pl.Expr:
    """The task's AI (invoice-true cost plus review) costs more than the people's time it saves, measured where
    work records measure it, else as the catalog estimates it; NULL: unknown."""
    return (pl.col("reported_net_savings_usd") < 0).alias("loses_money")


def loss_rank() -> pl.Expr:
    """1 = loses the most dollars; NULL for tasks that do not lose money (or whose cost is unknown)."""
    rank = pl.col("reported_net_savings_usd").rank(method="min").cast(pl.Int64)
    return pl.when(pl.col("loses_money")).then(rank).otherwise(None).alias("loss_rank")


def break_even_minutes() -> pl.Expr:
    """The people's minutes one run must save to pay for its AI cost (allocated, billed) and its review."""
    per_run = _ratio("allocated_cost_usd", pl.col("runs"))
    return (pl.when(pl.col("hourly_rate_usd") > 0)
            .then(per_run / pl.col("hourly_rate_usd") * 60.0 + pl.col("review_minutes"))
            .alias("break_even_minutes"))


MEASURED = "measured"
CATALOG_ESTIMATE = "catalog_estimate"
MEASURED_COLUMNS = ["verdict", "measured_minutes_saved", "measured_minutes_saved_low", "measured_minutes_saved_high",
                    "measured_net_savings_usd", "measured_net_savings_low_usd", "measured_net_savings_high_usd"]
_NO_EVIDENCE = {"task": pl.String, "verdict": pl.String, "minutes_basis": pl.String, "items_ai": pl.Int64,
                "minutes_saved": pl.Float64, "minutes_saved_low": pl.Float64, "minutes_saved_high": pl.Float64}


def measured_time_saved(minutes: str) -> pl.Expr:
    """AI-assisted items x measured minutes saved / 60 x hourly rate, on handling minutes only: elapsed
    (turnaround) minutes are not people's time, so they give no money (docs/evidence.md)."""
    saved = pl.col("items_ai") * pl.col(minutes) / 60.0 * pl.col("hourly_rate_usd")
    return pl.when(pl.col("minutes_basis") == "handling").then(saved)


def measured_net_savings(minutes: str) -> pl.Expr:
    """The measured people's time saved less the allocated AI cost and the review cost."""
    return measured_time_saved(minutes) - pl.col("allocated_cost_usd") - pl.col("review_cost_usd")


def roi_basis() -> pl.Expr:
    """measured where the work items gave a verdict and a money figure; the catalog's estimate otherwise."""
    measured = ((pl.col("verdict") != "insufficient_evidence") & pl.col("measured_net_savings_usd").is_not_null()
                ).fill_null(False)
    return pl.when(measured).then(pl.lit(MEASURED)).otherwise(pl.lit(CATALOG_ESTIMATE)).alias("roi_basis")


def reported_net_savings_usd() -> pl.Expr:
    """The figure totals add up: measured where roi_basis says so, else the catalog's estimate (allocated)."""
    return (pl.when(pl.col("roi_basis") == MEASURED).then(pl.col("measured_net_savings_usd"))
            .otherwise(pl.col("allocated_net_savings_usd")).alias("reported_net_savings_usd"))


def reported_human_cost_avoided_usd() -> pl.Expr:
    """The people's time `reported_net_savings_usd` rests on: measured where roi_basis says so, else the catalog's
    successes x minutes. A row's reported avoided cost less its allocated AI cost and review is its reported net
    savings, so a table showing them side by side adds up on measured rows too."""
    return (pl.when(pl.col("roi_basis") == MEASURED).then(measured_time_saved("measured_minutes_saved"))
            .otherwise(pl.col("human_cost_avoided_usd")).alias("reported_human_cost_avoided_usd"))


def reported_roi() -> pl.Expr:
    """reported_net_savings_usd / (allocated cost + review): the catalog's allocated_roi unless measured."""
    return _ratio("reported_net_savings_usd", pl.col("allocated_cost_usd") + pl.col("review_cost_usd")).alias(
        "reported_roi")


def _with_evidence(roi: pl.LazyFrame, evidence: pl.LazyFrame | None, items: pl.LazyFrame | None) -> pl.LazyFrame:
    """The measured columns from one task_evidence row per task; `items` (task, items_ai) counts the AI-assisted
    items of the scope the costs cover (default: the evidence's own)."""
    found = (pl.LazyFrame(schema=_NO_EVIDENCE) if evidence is None
             else evidence.select(*_NO_EVIDENCE))
    if items is not None:  # none in the scope: the AI cost bought no AI-assisted item there
        found = (found.drop("items_ai").join(items.select("task", "items_ai"), on="task", how="left")
                 .with_columns(pl.col("items_ai").fill_null(0)))
    return (
        roi.join(found, on="task", how="left")
        .with_columns(pl.col("minutes_saved", "minutes_saved_low", "minutes_saved_high")
                      .name.map(lambda c: "measured_" + c))
        .with_columns(measured_net_savings("measured_minutes_saved").alias("measured_net_savings_usd"),
                      measured_net_savings("measured_minutes_saved_low").alias("measured_net_savings_low_usd"),
                      measured_net_savings("measured_minutes_saved_high").alias("measured_net_savings_high_usd"))
        .with_columns(roi_basis())
        .with_columns(reported_net_savings_usd(), reported_human_cost_avoided_usd())
        .with_columns(reported_roi())
    )


def _ratio(numerator: str, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(pl.col(numerator) / denominator).otherwise(None)


def task_roi(task_daily: pl.LazyFrame, tasks: pl.LazyFrame, evidence: pl.LazyFrame | None = None,
             items: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Per task over the whole period: every catalog task (even with no runs) plus any task seen in the logs.

    A task missing from the catalog (including 'unattributed') has no human value: it avoids $0 and its AI
    cost counts fully against it, so savings are never overstated. When task_daily carries no
    `allocated_cost_usd` (no allocation was built), the logs' cost stands in for it, as allocate does for
    providers without invoices. `evidence` (task_evidence, one row per task: its task rows, or one team's) adds the
    measured figures and roi_basis; `items` counts the AI-assisted items of task_daily's days when they are fewer
    than the evidence's (a dashboard period).
    """
    has_allocated = "allocated_cost_usd" in task_daily.collect_schema().names()
    allocated = pl.col("allocated_cost_usd") if has_allocated else pl.col("ai_cost_usd")
    totals = task_daily.group_by("task").agg(
        pl.col("runs", "successes", "failures", "requests", "unpriced_requests").sum(),
        priced_sum("ai_cost_usd"),
        pl.when(allocated.is_not_null().any()).then(allocated.sum()).otherwise(None).alias("allocated_cost_usd"),
    )
    catalog = tasks.select("task", "description", "human_minutes", "hourly_rate_usd", "review_minutes")
    return (
        catalog.join(totals, on="task", how="full", coalesce=True)
        .with_columns(
            pl.col("runs", "successes", "failures", "requests", "unpriced_requests").fill_null(0).cast(pl.Int64),
            # No runs cost nothing; runs that were all unpriced stay NULL (unknown, not free).
            pl.when(pl.col("runs").fill_null(0) == 0).then(0.0).otherwise(pl.col("ai_cost_usd")).alias("ai_cost_usd"),
            # Nothing ran and nothing was billed to it: $0. Runs with no priced or billed cost stay NULL.
            pl.when((pl.col("runs").fill_null(0) == 0) & pl.col("allocated_cost_usd").is_null())
            .then(0.0)
            .otherwise(pl.col("allocated_cost_usd"))
            .alias("allocated_cost_usd"),
            pl.when(pl.col("task") == UNATTRIBUTED)
            .then(pl.lit("requests that named no task"))
            .otherwise(pl.col("description"))
            .alias("description"),
        )
        .with_columns(human_cost_avoided_usd(), review_cost_usd())
        .with_columns(net_savings_usd(), allocated_net_savings_usd())
        .with_columns(
            _ratio("successes", pl.col("runs")).alias("success_rate"),
            _ratio("ai_cost_usd", pl.col("successes")).alias("cost_per_success_usd"),
            _ratio("net_savings_usd", pl.col("ai_cost_usd") + pl.col("review_cost_usd")).alias("roi"),
            _ratio("allocated_cost_usd", pl.col("successes")).alias("allocated_cost_per_success_usd"),
            _ratio("allocated_net_savings_usd", pl.col("allocated_cost_usd") + pl.col("review_cost_usd"))
            .alias("allocated_roi"),
            break_even_minutes(),
        )
        .pipe(_with_evidence, evidence, items)
        .with_columns(loses_money())
        .with_columns(loss_rank())
        .select(
            "task",
            "description",
            "runs",
            "successes",
            "failures",
            "success_rate",
            "requests",
            "unpriced_requests",
            "ai_cost_usd",
            "cost_per_success_usd",
            "human_minutes",
            "hourly_rate_usd",
            "review_minutes",
            "human_cost_avoided_usd",
            "review_cost_usd",
            "net_savings_usd",
            "roi",
            "allocated_cost_usd",
            "allocated_cost_per_success_usd",
            "allocated_net_savings_usd",
            "allocated_roi",
            "loses_money",
            "loss_rank",
            "roi_basis",
            *MEASURED_COLUMNS,
            "break_even_minutes",
            "reported_net_savings_usd",
            "reported_human_cost_avoided_usd",
            "reported_roi",
        )
        .sort("net_savings_usd", descending=True, nulls_last=True)
    )
