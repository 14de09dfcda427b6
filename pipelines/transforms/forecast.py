"""Month-end forecast: what this month will end at, per scope (total, each provider, each team), with a range.

Method, chosen to be explainable to a finance reader in one sentence and robust to a single spiky day:
  forecast = actual month to date + remaining days x median daily spend of the trailing window
  low/high = actual month to date + remaining days x the 20th / 80th percentile of the same daily spends
The trailing window is the `trailing_days` (default 14) days ending on `as_of`, crossing into last month when the
month is young, and never starting before the scope's first day of spend (a team that started last week is not
diluted by days it did not exist). Days without spend inside the window count as $0. `as_of` is the last
complete day counted: actual includes it, the remaining days are the ones after it.

The range is the spread of a typical day applied to every remaining day, so it is wide on purpose: it describes
"if the rest of the month runs like a slow / busy day of the last two weeks", not independent daily noise.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import polars as pl

from pipelines.transforms.usage import priced_sum

SCOPES = ("total", "provider", "team")
LOW_QUANTILE = 0.2
HIGH_QUANTILE = 0.8


def month_bounds(as_of: date) -> tuple[date, date]:
    """First and last day of the month of `as_of`."""
    last = calendar.monthrange(as_of.year, as_of.month)[1]
    return as_of.replace(day=1), as_of.replace(day=last)


def scoped_daily(daily: pl.LazyFrame, scopes: tuple[str, ...] = SCOPES) -> pl.LazyFrame:
    """(scope, scope_value, day, cost_usd): the daily frame stacked once per scope.

    scope 'total' has scope_value NULL; scope 'team' has NULL for spend that named no team.
    """
    parts = [
        daily.select(
            pl.lit(scope).alias("scope"),
            (pl.lit(None, dtype=pl.String) if scope == "total" else pl.col(scope).cast(pl.String)).alias("scope_value"),
            "day",
            "cost_usd",
        )
        for scope in scopes
    ]
    return pl.concat(parts)


def month_forecast(
    daily: pl.LazyFrame, keys: list[str], as_of: date, *, trailing_days: int = 14
) -> pl.LazyFrame:
    """Actual to date and forecast (point, low, high) of the month of `as_of`, per value of `keys`.

    `daily` has `keys`, `day`, `cost_usd`; a NULL cost (unpriced) adds nothing. Keys with no spend in the month
    nor in the trailing window are left out.
    """
    month_start, month_end = month_bounds(as_of)
    window_start = as_of - timedelta(days=trailing_days - 1)
    remaining = (month_end - as_of).days
    per_day = (
        daily.filter((pl.col("day") >= min(month_start, window_start)) & (pl.col("day") <= as_of))
        .group_by([*keys, "day"])
        .agg(priced_sum("cost_usd"), pl.lit(True).alias("_seen"))
    )
    # First day of spend, from all history up to as_of (a scope older than the window uses the full window).
    first_day = daily.filter(pl.col("day") <= as_of).group_by(keys).agg(pl.col("day").min().alias("_first"))
    present = per_day.select(keys).unique()
    window = (
        present.join(first_day, on=keys, how="left", nulls_equal=True)
        .select(*keys, pl.date_ranges(pl.max_horizontal(pl.col("_first"), pl.lit(window_start)), pl.lit(as_of)).alias("day"))
        .explode("day")
        .join(per_day, on=[*keys, "day"], how="left", nulls_equal=True)
        # No row that day: no requests, $0. A row with NULL cost: all unpriced, unknown, left out of the stats.
        .with_columns(pl.when(pl.col("_seen").is_null()).then(0.0).otherwise(pl.col("cost_usd")).alias("cost_usd"))
        .group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("window_days"),
            pl.col("cost_usd").median().alias("daily_median_usd"),
            pl.col("cost_usd").quantile(LOW_QUANTILE, interpolation="linear").alias("daily_low_usd"),
            pl.col("cost_usd").quantile(HIGH_QUANTILE, interpolation="linear").alias("daily_high_usd"),
        )
    )
    actual = (
        per_day.filter(pl.col("day") >= month_start)
        .group_by(keys)
        .agg(priced_sum("cost_usd").alias("actual_usd"), pl.len().alias("_month_rows"))
    )
    return (
        window.join(actual, on=keys, how="left", nulls_equal=True)
        .with_columns(
            pl.lit(month_start).alias("month"),
            pl.lit(as_of).alias("as_of"),
            pl.lit(as_of.day, dtype=pl.Int64).alias("days_elapsed"),
            pl.lit(remaining, dtype=pl.Int64).alias("days_remaining"),
            # No row this month: $0 so far. Rows that were all unpriced: NULL (unknown), and so is the forecast.
            pl.when(pl.col("_month_rows").is_null()).then(0.0).otherwise(pl.col("actual_usd")).alias("actual_usd"),
        )
        .with_columns(
            (pl.col("actual_usd") + remaining * pl.col(f"daily_{name}_usd")).alias(f"forecast{suffix}_usd")
            for name, suffix in (("median", ""), ("low", "_low"), ("high", "_high"))
        )
    )


FORECAST_COLUMNS = [
    "month",
    "as_of",
    "scope",
    "scope_value",
    "days_elapsed",
    "days_remaining",
    "actual_usd",
    "window_days",
    "daily_median_usd",
    "daily_low_usd",
    "daily_high_usd",
    "forecast_usd",
    "forecast_low_usd",
    "forecast_high_usd",
]


def forecast_month_end(
    daily_total: pl.LazyFrame, as_of: date, *, trailing_days: int = 14, scopes: tuple[str, ...] = SCOPES
) -> pl.LazyFrame:
    """One row per scope value: 'total', each provider, each team (from a frame with day, provider, team,
    cost_usd such as `spend_by_day`)."""
    return (
        month_forecast(scoped_daily(daily_total, scopes), ["scope", "scope_value"], as_of, trailing_days=trailing_days)
        .select(FORECAST_COLUMNS)
        .with_columns(pl.col("scope").cast(pl.Enum(list(scopes))).alias("_order"))
        .sort("_order", "scope_value", nulls_last=True)
        .drop("_order")
    )
