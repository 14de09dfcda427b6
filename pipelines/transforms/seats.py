"""Seats over time: from the seats table (API snapshots and subscription lines) to who held which seat when, and
what it cost per month.

An API that lists seats shows only the present (GitHub's and Cursor's do), so a seat's history is read off the
daily snapshots the seats table keeps: a seat runs from its start (the API's `created_at`, or the first snapshot
that listed it) to its end date when the API gave one, or, once a newer snapshot of its source no longer lists it,
to the last snapshot that did. A subscription line runs from its start to its end. An open seat is paid through
the end of the month of `as_of` (seats are paid by the month).

Money: a seat-month costs `monthly_price_usd x seat_count x days held / days in the month`; a price in another
currency has no USD figure and stays NULL (never converted silently, never $0). docs/sources/seats_and_agents.md.
"""

from __future__ import annotations

from datetime import date

import polars as pl

SEAT_KEYS = ["x_source", "vendor", "plan", "identity"]
IDLE_DAYS = 30  # "no activity in its last 30 days": the window GitHub's own seat review uses


def month_end(col: pl.Expr) -> pl.Expr:
    return col.dt.month_end()


def seat_intervals(seats: pl.LazyFrame) -> pl.LazyFrame:
    """One row per seat: vendor, plan, identity, seat_count, monthly_price_usd, price_source, start, end (inclusive,
    NULL: open), last_activity_at, x_source. Snapshots of one seat collapse into one interval."""
    listed = seats.filter(pl.col("snapshot_day").is_not_null())
    newest = pl.col("snapshot_day").max().over("x_source")
    first_seen = pl.col("snapshot_day").min().over(["x_source", "identity"])
    snapshots = (
        listed.with_columns(newest.alias("_newest"), first_seen.alias("_identity_first"))
        .sort("snapshot_day")
        .group_by(SEAT_KEYS)
        .agg(
            pl.col("seat_count").last(), pl.col("monthly_price_usd").last(), pl.col("price_source").last(),
            pl.col("start_date").min(), pl.col("snapshot_day").min().alias("_first"),
            pl.col("snapshot_day").max().alias("_last"), pl.col("_newest").first(),
            pl.col("_identity_first").first(), pl.col("end_date").last(), pl.col("last_activity_at").max(),
        )
        .with_columns(
            # a plan that appeared after the seat did (a move from business to enterprise) starts when first listed
            pl.when(pl.col("_first") > pl.col("_identity_first")).then(pl.col("_first"))
            .otherwise(pl.min_horizontal("start_date", "_first")).alias("start"),
            pl.when(pl.col("_last") < pl.col("_newest"))
            .then(pl.min_horizontal(pl.coalesce("end_date", "_last"), "_last"))
            .otherwise(pl.col("end_date")).alias("end"),
        )
    )
    lines = seats.filter(pl.col("snapshot_day").is_null()).select(
        *SEAT_KEYS, "seat_count", "monthly_price_usd", "price_source", pl.col("start_date").alias("start"),
        pl.col("end_date").alias("end"), "last_activity_at",
    )
    columns = [*SEAT_KEYS, "seat_count", "monthly_price_usd", "price_source", "start", "end", "last_activity_at"]
    return pl.concat([snapshots.select(columns), lines.select(columns)], how="vertical_relaxed")


def paid_through(as_of: date) -> pl.Expr:
    """The last day a seat counts: its end, or for an open seat the end of the month of `as_of`."""
    return pl.coalesce("end", pl.lit(as_of).dt.month_end())


def seat_months(intervals: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """One row per seat and month it was held up to the month of `as_of`: seats, held days, seat_cost_usd."""
    last = pl.min_horizontal(paid_through(as_of), pl.lit(as_of).dt.month_end())
    held = (pl.min_horizontal("_last", month_end(pl.col("month"))) - pl.max_horizontal("start", "month")
            ).dt.total_days() + 1
    days_in_month = month_end(pl.col("month")).dt.day()
    return (
        intervals.with_columns(last.alias("_last"))
        .filter(pl.col("start") <= pl.col("_last"))
        .with_columns(pl.date_ranges(pl.col("start").dt.month_start(), pl.col("_last").dt.month_start(), "1mo")
                      .alias("month"))
        .explode("month")
        .with_columns(held.alias("held_days"))
        .with_columns(
            (pl.col("monthly_price_usd") * pl.col("seat_count") * pl.col("held_days") / days_in_month)
            .alias("seat_cost_usd"),
        )
        .drop("_last")
    )


def open_at(as_of: date) -> pl.Expr:
    return (pl.col("start") <= as_of) & (pl.col("end").is_null() | (pl.col("end") >= as_of))


def idle(last_activity: pl.Expr, period_end: pl.Expr, seat_start: pl.Expr, watched_since: pl.Expr) -> pl.Expr:
    """True: no activity in the IDLE_DAYS to `period_end`, the seat that old, and a source that sees every seat
    holder of the vendor watching the whole window (`watched_since` on or before its first day); False: activity
    in the window; NULL: cannot be told (no such source, or not for that long, or a seat too new)."""
    window_start = period_end - pl.duration(days=IDLE_DAYS - 1)
    return (
        pl.when(last_activity >= window_start).then(pl.lit(False))
        .when((watched_since <= window_start) & (seat_start <= window_start)).then(pl.lit(True))
        .otherwise(pl.lit(None, pl.Boolean))
    )
