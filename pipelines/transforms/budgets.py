"""budget_status: each configured monthly budget against this month's spend and month-end forecast.

Which cost a budget counts is the caller's choice, named in `cost_basis`; the function needs only a daily frame
(day, provider, team, cost_usd) and never mixes two figures. The pipeline (`pipelines/marts.py`, budget_status) feeds it
ALLOCATED cost (`cost_basis` = 'allocated'): the invoice's AI cost shared to teams by their usage where invoices
are loaded, the logs' priced cost where they are not, so a budget has a team and is invoice-true. The default
basis, the logs' priced usage ('priced_usage'), leaves out usage no application logged, non-token AI charges and
credits, and requests whose model has no price (counted in `unpriced_requests`, never as $0).

A budget with `team` counts only that team's spend, with `provider` only that provider's (genai-prices id, e.g.
'anthropic'), with both only their intersection, with neither everything.

Status: 'unknown' when every matching request was unpriced (cost NULL, never $0); 'over' when actual reached 100% of the budget; 'warning' when actual reached `warning_pct` (80%) or the
point forecast ends the month above the budget; else 'ok'. `thresholds_reached` lists every threshold percent
(50, 80, 100 by default) that actual spend has reached; `forecast_over_budget` says the point forecast exceeds
100%. The forecast method is `pipelines.transforms.forecast.month_forecast`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from pipelines.config import BudgetConfig
from pipelines.transforms.forecast import month_bounds, month_forecast

THRESHOLDS = (50, 80, 100)
WARNING_PCT = 80
PRICED_USAGE = "priced_usage"

BUDGET_COLUMNS = [
    "budget",
    "team",
    "provider",
    "monthly_usd",
    "month",
    "as_of",
    "cost_basis",
    "actual_usd",
    "forecast_usd",
    "forecast_low_usd",
    "forecast_high_usd",
    "actual_pct",
    "forecast_pct",
    "thresholds_reached",
    "highest_threshold_pct",
    "forecast_over_budget",
    "status",
    "unpriced_requests",
]


def budgets_frame(budgets: Sequence[BudgetConfig]) -> pl.LazyFrame:
    """The config's budgets as a frame (a handful of rows: plain Python is fine here)."""
    return pl.LazyFrame(
        {
            "budget": [b.name for b in budgets],
            "monthly_usd": [float(b.monthly_usd) for b in budgets],
            "team": [b.team for b in budgets],
            "provider": [b.provider for b in budgets],
        },
        schema={"budget": pl.String, "monthly_usd": pl.Float64, "team": pl.String, "provider": pl.String},
    )


def _matches(column: str) -> pl.Expr:
    """A budget without a filter on `column` takes every row; one with a filter only equal rows."""
    return pl.col(f"{column}_budget").is_null() | (pl.col(f"{column}_budget") == pl.col(column))


def percent_of_budget(column: str) -> pl.Expr:
    return (100.0 * pl.col(column) / pl.col("monthly_usd")).alias(column.replace("_usd", "_pct"))


def thresholds_reached(thresholds: Sequence[int]) -> pl.Expr:
    return (
        pl.concat_list([pl.when(pl.col("actual_pct") >= t).then(pl.lit(t, dtype=pl.Int64)) for t in thresholds])
        .list.drop_nulls()
        .alias("thresholds_reached")
    )


def status(warning_pct: float) -> pl.Expr:
    return (
        pl.when(pl.col("actual_usd").is_null())
        .then(pl.lit("unknown"))
        .when(pl.col("actual_pct") >= 100)
        .then(pl.lit("over"))
        .when((pl.col("actual_pct") >= warning_pct) | pl.col("forecast_over_budget"))
        .then(pl.lit("warning"))
        .otherwise(pl.lit("ok"))
        .alias("status")
    )


def budget_status(
    budgets: Sequence[BudgetConfig] | pl.LazyFrame,
    daily: pl.LazyFrame,
    as_of: date,
    *,
    thresholds: Sequence[int] = THRESHOLDS,
    warning_pct: float = WARNING_PCT,
    trailing_days: int = 14,
    cost_basis: str = PRICED_USAGE,
) -> pl.LazyFrame:
    """One row per budget for the month of `as_of` (a budget with no matching spend shows $0, status ok).

    `daily` has day, provider, team, cost_usd and optionally unpriced_requests (e.g. `spend_by_day`).
    """
    frame = budgets if isinstance(budgets, pl.LazyFrame) else budgets_frame(budgets)
    month_start, _ = month_bounds(as_of)
    has_unpriced = "unpriced_requests" in daily.collect_schema().names()
    day_rows = daily.select(
        "day",
        "provider",
        "team",
        "cost_usd",
        (pl.col("unpriced_requests") if has_unpriced else pl.lit(0)).cast(pl.Int64).alias("unpriced_requests"),
    )
    matched = (
        frame.select("budget", pl.col("team").alias("team_budget"), pl.col("provider").alias("provider_budget"))
        .join(day_rows, how="cross")
        .filter(_matches("team") & _matches("provider"))
    )
    forecast = month_forecast(matched, ["budget"], as_of, trailing_days=trailing_days)
    unpriced = (
        matched.filter((pl.col("day") >= month_start) & (pl.col("day") <= as_of))
        .group_by("budget")
        .agg(pl.col("unpriced_requests").sum())
    )
    return (
        frame.join(forecast, on="budget", how="left")
        .join(unpriced, on="budget", how="left")
        .with_columns(
            pl.lit(month_start).alias("month"),
            pl.lit(as_of).alias("as_of"),
            pl.lit(cost_basis).alias("cost_basis"),
            pl.col("unpriced_requests").fill_null(0).cast(pl.Int64),
            # A budget nothing matched has spent $0; one whose spend was all unpriced stays NULL (unknown).
            *[
                pl.when(pl.col("window_days").is_null()).then(0.0).otherwise(pl.col(c)).alias(c)
                for c in ("actual_usd", "forecast_usd", "forecast_low_usd", "forecast_high_usd")
            ],
        )
        .with_columns(percent_of_budget("actual_usd"), percent_of_budget("forecast_usd"))
        .with_columns(
            thresholds_reached(thresholds),
            (pl.col("forecast_usd") > pl.col("monthly_usd")).alias("forecast_over_budget"),
        )
        .with_columns(pl.col("thresholds_reached").list.max().alias("highest_threshold_pct"), status(warning_pct))
        .select(BUDGET_COLUMNS)
        .sort("budget")
    )
