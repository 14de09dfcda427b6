"""anomalies: days whose spend breaks from its own recent past, per provider, model and team.

Why robust statistics: AI spend is spiky by nature (a batch job, a new feature), and a mean/standard-deviation
baseline is dragged up by the very spikes it should flag. The baseline here is the median of the trailing
`window_days` days (the day itself excluded), the spread is the MAD (median absolute deviation from that median)
of the same days, and the score is the modified z-score of Iglewicz and Hoaglin: 0.6745 * (x - median) / MAD,
which reads like a z-score for normal data. A score above `threshold` is a spike, below -threshold a drop.

A day with no requests is $0, not missing: every key gets one row per calendar day from its first day of spend
to the last day of the data (at most `window_days` past its own last spend, after which the baseline is $0 and
nothing more can be learned), so a model that stops being used shows as a drop, and a window of 28 rows is 28
days. A day whose requests were all unpriced has cost NULL (unknown, never $0): it is neither scored nor used in
a baseline.

MAD = 0 (a flat series, or a key idle on most days) would make every change infinitely unusual. The score
divides by the MAD floored at `rel_mad_floor` x |median| (default 5%: on a flat $100/day series a day must move
about $26 to score 3.5) and at `abs_mad_floor_usd` (for a $0 median). `mad_usd` reports the raw MAD. And since a
robust score is scale-free, a key spending cents can score 50 on a dollar: a flagged day must also differ from
its baseline by at least `min_delta_usd`.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.transforms.usage import event_day, priced_sum

ANOMALY_KEYS = ["provider", "model", "team"]
SPIKE = "spike"
DROP = "drop"
MAD_TO_SIGMA = 0.6745  # the 0.75 quantile of the standard normal: MAD / 0.6745 estimates sigma


def spend_by_day(usage: pl.LazyFrame) -> pl.LazyFrame:
    """Priced request cost per UTC day, provider, model and team (NULL when nothing that day was priced).

    `requests` and `unpriced_requests` travel along so a consumer can say how much of the figure is unknown.
    """
    keys = ["day", *ANOMALY_KEYS]
    return (
        usage.with_columns(event_day())
        .group_by(keys)
        .agg(
            priced_sum("cost_usd"),
            pl.col("request_count").sum().cast(pl.Int64).alias("requests"),
            pl.col("request_count").filter(pl.col("cost_usd").is_null()).sum().cast(pl.Int64).alias("unpriced_requests"),
        )
        .select(*keys, "cost_usd", "requests", "unpriced_requests")
        .sort(keys, nulls_last=True)
    )


def spend_by_day_from_daily(usage_daily: pl.LazyFrame) -> pl.LazyFrame:
    """`spend_by_day` from the usage_daily mart (a finer grain of the same sums), reading no event."""
    keys = ["day", *ANOMALY_KEYS]
    return (
        usage_daily.group_by(keys)
        .agg(
            priced_sum("cost_usd"),
            pl.col("requests").sum().cast(pl.Int64),
            pl.col("unpriced_requests").sum().cast(pl.Int64),
        )
        .sort(keys, nulls_last=True)
    )


def daily_grid(daily: pl.LazyFrame, keys: list[str], *, tail_days: int) -> pl.LazyFrame:
    """Every (key, day) from the key's first day to min(last day of the data, key's last day + tail_days).

    A day absent from `daily` had no requests: $0. A day present with NULL cost was unpriced: it stays NULL.
    """
    spent = daily.group_by([*keys, "day"]).agg(
        pl.when(pl.col("cost_usd").is_not_null().any()).then(pl.col("cost_usd").sum()).alias("cost_usd"),
        pl.lit(True).alias("_seen"),
    )
    spans = (
        spent.with_columns(pl.col("day").max().alias("_data_end"))
        .group_by(keys)
        .agg(
            pl.col("day").min().alias("_first"),
            pl.min_horizontal(pl.col("day").max() + timedelta(days=tail_days), pl.col("_data_end").first()).alias(
                "_last"
            ),
        )
    )
    grid = spans.select(*keys, pl.date_ranges("_first", "_last", interval="1d").alias("day")).explode("day")
    return (
        grid.join(spent, on=[*keys, "day"], how="left", nulls_equal=True)
        .select(
            *keys,
            "day",
            pl.when(pl.col("_seen").is_null()).then(0.0).otherwise(pl.col("cost_usd")).alias("cost_usd"),
        )
        .sort([*keys, "day"], nulls_last=True)
    )


def is_weekend() -> pl.Expr:
    return pl.col("day").dt.weekday() >= 6


def robust_score(*, rel_mad_floor: float, abs_mad_floor_usd: float) -> pl.Expr:
    """0.6745 * (x - median) / MAD, the MAD floored (see the module docstring) so a flat history still scores."""
    scale = pl.max_horizontal(
        pl.col("mad_usd"), rel_mad_floor * pl.col("baseline_usd").abs(), pl.lit(abs_mad_floor_usd)
    )
    return (MAD_TO_SIGMA * (pl.col("cost_usd") - pl.col("baseline_usd")) / scale).alias("score")


def direction(threshold: float, min_delta_usd: float) -> pl.Expr:
    """'spike' or 'drop' when the score passes the threshold and the dollars are material; else NULL."""
    material = (pl.col("cost_usd") - pl.col("baseline_usd")).abs() >= min_delta_usd
    return (
        pl.when(material & (pl.col("score") > threshold))
        .then(pl.lit(SPIKE))
        .when(material & (pl.col("score") < -threshold))
        .then(pl.lit(DROP))
        .otherwise(None)
        .alias("direction")
    )


def anomalies(
    daily: pl.LazyFrame,
    *,
    window_days: int = 28,
    threshold: float = 3.5,
    min_history: int = 7,
    rel_mad_floor: float = 0.05,
    abs_mad_floor_usd: float = 0.01,
    min_delta_usd: float = 1.0,
    weekly_season: bool = True,
    keys: list[str] | None = None,
) -> pl.LazyFrame:
    """Every (day, key) with its baseline and score; `is_anomaly` marks the flagged days.

    `daily` has `day`, the key columns (default provider, model, team) and `cost_usd`, e.g. `spend_by_day`.
    A day is scored only when at least `min_history` of the `window_days` days before it have a known cost.
    With `weekly_season`, a Saturday or Sunday is measured against the weekend days of its window and a weekday
    against the weekdays: most AI spend follows the working week, and a quiet Sunday is not news. `min_history`
    then counts days of the same kind (a 28-day window holds 8 weekend days: weekends are scored from week 4).
    """
    keys = keys or ANOMALY_KEYS
    grid = daily_grid(daily.select("day", *keys, "cost_usd"), keys, tail_days=window_days).with_columns(
        (is_weekend() if weekly_season else pl.lit(False)).alias("_weekend")
    )
    # The window (day - window_days - 1, day - 1] is the window_days days before `day`, `day` itself excluded.
    history = grid.sort([*keys, "_weekend", "day"], nulls_last=True).rolling(
        index_column="day", period=f"{window_days}d", offset=f"-{window_days + 1}d", group_by=[*keys, "_weekend"]
    ).agg(
        pl.col("cost_usd").median().alias("baseline_usd"),
        (pl.col("cost_usd") - pl.col("cost_usd").median()).abs().median().alias("mad_usd"),
        pl.col("cost_usd").count().cast(pl.Int64).alias("history_days"),
    )
    enough = (pl.col("history_days") >= min_history) & pl.col("cost_usd").is_not_null()
    return (
        grid.join(history.drop("_weekend"), on=[*keys, "day"], how="left", nulls_equal=True)
        .with_columns(
            pl.when(enough).then(pl.col("baseline_usd")).alias("baseline_usd"),
            pl.when(enough).then(pl.col("mad_usd")).alias("mad_usd"),
        )
        .with_columns(robust_score(rel_mad_floor=rel_mad_floor, abs_mad_floor_usd=abs_mad_floor_usd))
        .with_columns(direction(threshold, min_delta_usd))
        .with_columns(pl.col("direction").is_not_null().alias("is_anomaly"))
        .select(
            "day", *keys, "cost_usd", "baseline_usd", "mad_usd", "history_days", "score", "is_anomaly", "direction"
        )
        .sort(["day", *keys], nulls_last=True)
    )
