"""task_evidence: AI-assisted against baseline work items per task (and per task and team), with intervals.

The per-item inputs (minutes, AI assistance, quality flags) come from evidence_items (transforms/evidence.py);
here they are summarized in Polars per task and team, and only the intervals are computed per group by
scipy.stats: Welch's t interval for a difference of means (`ttest_ind(equal_var=False).confidence_interval`),
which needs no equal spreads and is exact arithmetic, so the same items always give the same interval. A group
is a task or a task and team: a few dozen, so a loop over groups is fine where a loop over events is not.

- minutes_saved = mean baseline minutes - mean AI-assisted minutes (above 0: AI saves time);
- quality changes = AI-assisted minus baseline (rates of reopened, escalated, reverted items: above 0 is worse;
  mean CSAT: below 0 is worse), the same interval on the 0/1 flags and the ratings;
- verdict: `saves_time` when the interval lies above 0, `costs_time` below 0, `no_measurable_difference` when it
  spans 0 with at least `min_items` items each side, `insufficient_evidence` otherwise;
- method: `before_after` when every baseline item precedes the first AI-assisted one, else `concurrent`.
docs/evidence.md says what each design can and cannot show.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import polars as pl

from pipelines.transforms.evidence import HANDLING, LINKED_RUN, TASK_GRAIN, by_grain, measured
from pipelines.transforms.usage import priced_sum

INTERVAL_METHOD = "welch_t"
SAVES, NO_DIFFERENCE, COSTS, INSUFFICIENT = "saves_time", "no_measurable_difference", "costs_time", \
    "insufficient_evidence"
CONCURRENT, BEFORE_AFTER = "concurrent", "before_after"
KEYS = ["task", "team", "grain"]
# quality flag column -> the figure's name in task_evidence
RATES = {"reopened": "reopen_rate", "escalated": "escalation_rate", "reverted": "revert_rate"}


def mean_difference_interval(first: Sequence[float], second: Sequence[float],
                             confidence: float) -> tuple[float | None, float | None]:
    """Welch's t interval for mean(first) - mean(second); (None, None) when it cannot be had: fewer than two
    values a side, or no spread at all on either side."""
    first, second = np.asarray(first, float), np.asarray(second, float)
    if len(first) < 2 or len(second) < 2 or (np.ptp(first) == 0 and np.ptp(second) == 0):
        return None, None  # with no spread scipy returns a zero-width interval: certainty a sample cannot give
    from scipy import stats  # here, not at the top: importing scipy.stats is 2 s of every command's start-up

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        interval = stats.ttest_ind(first, second, equal_var=False).confidence_interval(confidence)
    low, high = float(interval.low), float(interval.high)
    return (low, high) if math.isfinite(low) and math.isfinite(high) else (None, None)


def _ai(expr: pl.Expr) -> pl.Expr:
    return expr.filter(pl.col("ai_assisted"))


def _baseline(expr: pl.Expr) -> pl.Expr:
    return expr.filter(~pl.col("ai_assisted"))


def _summaries(items: pl.LazyFrame) -> pl.LazyFrame:
    """Counts, means, medians and the values each interval needs, per task (and task and team)."""
    minutes = pl.col("minutes")
    quality = {name: pl.col(name).cast(pl.Float64) for name in [*RATES, "csat"]}
    return (
        by_grain(measured(items))
        .group_by(KEYS)
        .agg(
            pl.col("day").min().alias("period_start"),
            pl.col("day").max().alias("period_end"),
            pl.col("minutes_basis").first(),
            pl.col("ai_assisted").sum().cast(pl.Int64).alias("items_ai"),
            (~pl.col("ai_assisted")).sum().cast(pl.Int64).alias("items_baseline"),
            _ai(pl.col("ai_basis") == LINKED_RUN).sum().cast(pl.Int64).alias("items_linked"),
            _ai(pl.col("day")).min().alias("first_ai_day"),
            _baseline(pl.col("day")).max().alias("last_baseline_day"),
            _ai(minutes).mean().alias("mean_minutes_ai"),
            _baseline(minutes).mean().alias("mean_minutes_baseline"),
            _ai(minutes).median().alias("median_minutes_ai"),
            _baseline(minutes).median().alias("median_minutes_baseline"),
            _ai(minutes).alias("minutes_ai_values"),
            _baseline(minutes).alias("minutes_baseline_values"),
            *[_ai(value).drop_nulls().alias(f"{name}_ai_values") for name, value in quality.items()],
            *[_baseline(value).drop_nulls().alias(f"{name}_baseline_values") for name, value in quality.items()],
        )
    )


def _intervals(summary: pl.DataFrame, confidence: float) -> pl.DataFrame:
    """The interval of every difference, one row per group (scipy per group: a few dozen groups)."""
    columns: dict[str, list] = {k: summary[k].to_list() for k in KEYS}
    pairs = {"minutes_saved": ("minutes_baseline_values", "minutes_ai_values")}  # baseline - AI
    pairs |= {f"{RATES.get(n, n)}_change": (f"{n}_ai_values", f"{n}_baseline_values") for n in [*RATES, "csat"]}
    for name, (first, second) in pairs.items():
        bounds = [mean_difference_interval(a, b, confidence)
                  for a, b in zip(summary[first].to_list(), summary[second].to_list())]
        columns[f"{name}_low"] = [low for low, _ in bounds]
        columns[f"{name}_high"] = [high for _, high in bounds]
    schema = {"task": pl.String, "team": pl.String, "grain": pl.String}
    return pl.DataFrame(columns, schema={**schema, **{k: pl.Float64 for k in columns if k not in schema}})


def verdict(min_items: int) -> pl.Expr:
    low, high = pl.col("minutes_saved_low"), pl.col("minutes_saved_high")
    enough = (pl.col("items_ai") >= min_items) & (pl.col("items_baseline") >= min_items)
    return (pl.when(low > 0).then(pl.lit(SAVES)).when(high < 0).then(pl.lit(COSTS))
            .when(low.is_not_null() & enough).then(pl.lit(NO_DIFFERENCE))
            .otherwise(pl.lit(INSUFFICIENT)).alias("verdict"))


def design() -> pl.Expr:
    """before_after when every baseline item precedes the first AI-assisted one; NULL when a side is empty."""
    both = (pl.col("items_ai") > 0) & (pl.col("items_baseline") > 0)
    return (pl.when(~both).then(None)
            .when(pl.col("last_baseline_day") < pl.col("first_ai_day")).then(pl.lit(BEFORE_AFTER))
            .otherwise(pl.lit(CONCURRENT)).alias("method"))


def quality_flag() -> pl.Expr:
    """What AI-assisted work does measurably worse: a rate whose change lies above 0, CSAT below 0."""
    worse = [pl.when(pl.col(f"{rate}_change_low") > 0).then(pl.lit(flag)) for flag, rate in RATES.items()]
    worse.append(pl.when(pl.col("csat_change_high") < 0).then(pl.lit("csat")))
    text = pl.concat_str(worse, separator=", ", ignore_nulls=True)
    return pl.when(text != "").then(text).alias("quality_flag")


def _means() -> list[pl.Expr]:
    out = [(pl.col("mean_minutes_baseline") - pl.col("mean_minutes_ai")).alias("minutes_saved")]
    for flag, rate in {**RATES, "csat": "csat"}.items():
        ai, base = pl.col(f"{flag}_ai_values").list, pl.col(f"{flag}_baseline_values").list
        out += [ai.mean().alias(f"{rate}_ai"), base.mean().alias(f"{rate}_baseline"),
                (ai.mean() - base.mean()).alias(f"{rate}_change")]
    return out


def _costs(summary: pl.LazyFrame, task_daily: pl.LazyFrame) -> pl.LazyFrame:
    """Runs and allocated AI cost (billed) of each group's days: the period its items span."""
    names = task_daily.collect_schema().names()
    cost = pl.col("allocated_cost_usd") if "allocated_cost_usd" in names else pl.col("ai_cost_usd")
    daily = by_grain(task_daily.select("day", "task", "team", "runs", cost.alias("cost")))
    return (
        summary.select(*KEYS, "period_start", "period_end")
        .join(daily, on=KEYS, how="inner", nulls_equal=True)
        .filter(pl.col("day").is_between(pl.col("period_start"), pl.col("period_end")))
        .group_by(KEYS)
        .agg(pl.col("runs").sum().alias("period_runs"), priced_sum("cost").alias("ai_cost_usd"))
    )


def _money() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Costs over the period, then per item and the measured net savings. Only handling minutes are people's
    time: a task measured on elapsed (turnaround) minutes gets no money figure from them."""
    rate = pl.when(pl.col("minutes_basis") == HANDLING).then(pl.col("hourly_rate_usd"))
    ran = pl.col("period_runs").is_not_null()
    per_item = pl.when(pl.col("items_ai") > 0)
    saved = {"": pl.col("minutes_saved"), "_low": pl.col("minutes_saved_low"),
             "_high": pl.col("minutes_saved_high")}
    return [
        pl.when(ran).then(pl.col("ai_cost_usd")).otherwise(0.0).alias("ai_cost_usd"),
        (pl.col("period_runs").fill_null(0) * pl.col("review_minutes") / 60.0 * pl.col("hourly_rate_usd"))
        .alias("review_cost_usd"),
    ], [
        per_item.then(pl.col("ai_cost_usd") / pl.col("items_ai")).alias("ai_cost_per_item_usd"),
        per_item.then(pl.col("review_cost_usd") / pl.col("items_ai")).alias("review_cost_per_item_usd"),
        *[(pl.col("items_ai") * minutes / 60.0 * rate - pl.col("ai_cost_usd") - pl.col("review_cost_usd"))
          .alias(f"measured_net_savings{suffix}_usd") for suffix, minutes in saved.items()],
    ]


COLUMNS = [
    "task", "team", "grain", "period_start", "period_end", "minutes_basis", "items_ai", "items_baseline",
    "items_linked", "first_ai_day", "mean_minutes_ai", "mean_minutes_baseline", "median_minutes_ai",
    "median_minutes_baseline", "minutes_saved", "minutes_saved_low", "minutes_saved_high", "confidence",
    "interval_method", "method", "verdict",
    *[f"{rate}_{part}" for rate in [*RATES.values(), "csat"] for part in
      ("ai", "baseline", "change", "change_low", "change_high")],
    "quality_flag", "hourly_rate_usd", "ai_cost_usd", "review_cost_usd", "ai_cost_per_item_usd",
    "review_cost_per_item_usd", "measured_net_savings_usd", "measured_net_savings_low_usd",
    "measured_net_savings_high_usd",
]


def task_evidence(items: pl.LazyFrame, task_daily: pl.LazyFrame, tasks: pl.LazyFrame, *, min_items: int = 20,
                  confidence: float = 0.95) -> pl.LazyFrame:
    """One row per task (team NULL) and per task and team: the comparison, its interval, verdict and money.

    The summary is collected once to compute the intervals (scipy needs the values), then joined back.
    """
    summary = _summaries(items).collect()
    intervals = _intervals(summary, confidence)
    costs, per_item = _money()
    lazy = summary.lazy()
    return (
        lazy.join(intervals.lazy(), on=KEYS, how="left", nulls_equal=True)
        .join(_costs(lazy, task_daily), on=KEYS, how="left", nulls_equal=True)
        .join(tasks.select("task", "hourly_rate_usd", "review_minutes"), on="task", how="left")
        .with_columns(*_means(), design(), pl.lit(confidence).alias("confidence"),
                      pl.lit(INTERVAL_METHOD).alias("interval_method"))
        .with_columns(verdict(min_items), quality_flag(), *costs)
        .with_columns(per_item)
        .select(COLUMNS)
        .sort("task", pl.col("grain") != TASK_GRAIN, "team", nulls_last=False)
    )
