"""Everything the dashboard reads: parameterized DuckDB SQL over the Parquet snapshots, returned as Polars.

The dashboard never opens the warehouse file (the pipeline may be writing it); it reads the snapshots that
`warehouse.db.export_snapshot` publishes atomically. A missing snapshot means the pipeline has not run yet:
every function then returns an empty frame with the usual columns, so pages can say so instead of failing.
Each call opens its own in-memory connection: it costs about a millisecond and is safe across the server's
threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from pipelines.transforms.roi import task_roi

DEFAULT_PERIOD_DAYS = 30


@dataclass(frozen=True)
class Period:
    """An inclusive range of UTC days."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @classmethod
    def ending(cls, end: date, days: int) -> Period:
        return cls(end - timedelta(days=days - 1), end)


def snapshot_file(snapshot_dir: str | Path, table: str) -> Path:
    return Path(snapshot_dir) / f"{table}.parquet"


def has_snapshot(snapshot_dir: str | Path, table: str) -> bool:
    return snapshot_file(snapshot_dir, table).is_file()


def _query(statement: str, params: list, empty_schema: dict[str, pl.DataType]) -> pl.DataFrame:
    with duckdb.connect(":memory:") as con:
        con.execute("SET autoinstall_known_extensions = false")
        frame = con.sql(statement, params=params).pl()
    if frame.height == 0:
        # DuckDB types an all-empty aggregate loosely; pages rely on the documented columns.
        return pl.DataFrame(schema=empty_schema)
    return frame.cast(empty_schema)  # type: ignore[arg-type]


def _read(snapshot_dir: str | Path, table: str, statement: str, params: list, schema: dict) -> pl.DataFrame:
    """Run `statement` whose first parameter is the snapshot path; empty result when there is no snapshot."""
    path = snapshot_file(snapshot_dir, table)
    if not path.is_file():
        return pl.DataFrame(schema=schema)
    return _query(statement, [str(path), *params], schema)


# --- the period ------------------------------------------------------------------------------------------

DAY_RANGE_SQL = "SELECT min(day) AS first_day, max(day) AS last_day FROM read_parquet(?)"
DAY_RANGE_SCHEMA = {"first_day": pl.Date, "last_day": pl.Date}


def day_range(snapshot_dir: str | Path) -> tuple[date, date] | None:
    """First and last day with data: billed spend, or the request logs when no invoices are loaded yet."""
    for table in ("spend_daily", "usage_daily", "task_daily"):
        frame = _read(snapshot_dir, table, DAY_RANGE_SQL, [], DAY_RANGE_SCHEMA)
        if frame.height and frame["last_day"][0] is not None:
            return frame["first_day"][0], frame["last_day"][0]
    return None


def default_period(snapshot_dir: str | Path, days: int = DEFAULT_PERIOD_DAYS) -> Period | None:
    """The last `days` days of data available (not of the calendar: exports arrive late)."""
    found = day_range(snapshot_dir)
    return Period.ending(found[1], days) if found else None


# --- overview: billed spend -----------------------------------------------------------------------------

BILLED_SPEND_SQL = """
SELECT billing_currency,
       sum(billed_cost)                                  AS billed_cost,
       coalesce(sum(billed_cost) FILTER (WHERE is_ai), 0) AS ai_billed_cost,
       sum(line_count)                                   AS line_count
FROM read_parquet(?)
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
GROUP BY billing_currency
ORDER BY billed_cost DESC NULLS LAST, billing_currency
"""
BILLED_SPEND_SCHEMA = {
    "billing_currency": pl.String,
    "billed_cost": pl.Float64,
    "ai_billed_cost": pl.Float64,
    "line_count": pl.Int64,
}


def billed_spend(snapshot_dir: str | Path, period: Period, provider: str | None = None) -> pl.DataFrame:
    """Billed (cash) cost per billing currency, and the AI part of it. Currencies are never summed together."""
    return _read(
        snapshot_dir,
        "spend_daily",
        BILLED_SPEND_SQL,
        [period.start, period.end, provider, provider],
        BILLED_SPEND_SCHEMA,
    )


DAILY_BILLED_SQL = """
SELECT day, coalesce(provider, '(no provider)') AS provider, sum(billed_cost) AS billed_cost
FROM read_parquet(?)
WHERE day BETWEEN ? AND ?
  AND billing_currency IS NOT DISTINCT FROM ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
GROUP BY ALL
ORDER BY day, provider
"""
DAILY_BILLED_SCHEMA = {"day": pl.Date, "provider": pl.String, "billed_cost": pl.Float64}


def daily_billed_by_provider(
    snapshot_dir: str | Path, period: Period, currency: str | None, provider: str | None = None
) -> pl.DataFrame:
    """Billed cost per day and provider in one currency (a chart shows one cost figure, one currency)."""
    return _read(
        snapshot_dir,
        "spend_daily",
        DAILY_BILLED_SQL,
        [period.start, period.end, currency, provider, provider],
        DAILY_BILLED_SCHEMA,
    )


PROVIDERS_SQL = "SELECT DISTINCT provider FROM read_parquet(?) WHERE provider IS NOT NULL ORDER BY provider"


def providers(snapshot_dir: str | Path) -> list[str]:
    """Providers named on the invoices (the usage side may spell them differently, e.g. 'aws')."""
    return _read(snapshot_dir, "spend_daily", PROVIDERS_SQL, [], {"provider": pl.String})["provider"].to_list()


# --- overview: the request-log side ---------------------------------------------------------------------

USAGE_SUMMARY_SQL = """
SELECT coalesce(sum(requests), 0)          AS requests,
       coalesce(sum(unpriced_requests), 0) AS unpriced_requests,
       sum(cost_usd)                       AS priced_cost_usd
FROM read_parquet(?)
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
"""
USAGE_SUMMARY_SCHEMA = {
    "requests": pl.Int64,
    "unpriced_requests": pl.Int64,
    "priced_cost_usd": pl.Float64,
    "price_coverage": pl.Float64,
}


def price_coverage() -> pl.Expr:
    """Share of requests that have a price; NULL when there were no requests (unknown, not 100%)."""
    return (
        pl.when(pl.col("requests") > 0)
        .then((pl.col("requests") - pl.col("unpriced_requests")) / pl.col("requests"))
        .otherwise(None)
        .alias("price_coverage")
    )


def usage_summary(snapshot_dir: str | Path, period: Period, team: str | None = None) -> pl.DataFrame:
    """One row: requests, unpriced requests, priced cost from the logs (USD) and price coverage.

    The priced cost counts priced requests only; unpriced ones are not $0, they are outside the figure.
    """
    path = snapshot_file(snapshot_dir, "usage_daily")
    if not path.is_file():
        return pl.DataFrame(schema=USAGE_SUMMARY_SCHEMA)
    schema = {k: v for k, v in USAGE_SUMMARY_SCHEMA.items() if k != "price_coverage"}
    frame = _query(USAGE_SUMMARY_SQL, [str(path), period.start, period.end, team, team], schema)
    return frame.lazy().with_columns(price_coverage()).collect()


# --- tasks ----------------------------------------------------------------------------------------------

TASK_DAILY_SQL = """
SELECT day, task, team, runs, successes, failures, requests, error_requests, unpriced_requests, ai_cost_usd
FROM read_parquet(?)
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
"""
TASK_DAILY_SCHEMA = {
    "day": pl.Date,
    "task": pl.String,
    "team": pl.String,
    "runs": pl.Int64,
    "successes": pl.Int64,
    "failures": pl.Int64,
    "requests": pl.Int64,
    "error_requests": pl.Int64,
    "unpriced_requests": pl.Int64,
    "ai_cost_usd": pl.Float64,
}
TASKS_SQL = "SELECT task, description, human_minutes, hourly_rate_usd, review_minutes FROM read_parquet(?)"
TASKS_SCHEMA = {
    "task": pl.String,
    "description": pl.String,
    "human_minutes": pl.Float64,
    "hourly_rate_usd": pl.Float64,
    "review_minutes": pl.Float64,
}
TASK_TABLE_COLUMNS = [
    "task",
    "description",
    "runs",
    "successes",
    "success_rate",
    "requests",
    "unpriced_requests",
    "ai_cost_usd",
    "cost_per_success_usd",
    "human_cost_avoided_usd",
    "review_cost_usd",
    "net_savings_usd",
    "roi",
]


def task_table(snapshot_dir: str | Path, period: Period, team: str | None = None) -> pl.DataFrame:
    """Per task with runs in the period: outcomes, priced AI cost, people's time avoided and spent, ROI.

    The arithmetic is the pipeline's own (`pipelines.transforms.roi.task_roi`) so the page and the task_roi
    mart can never disagree; only the period and team filter differ. Sorted by net savings, best first.
    """
    daily = _read(snapshot_dir, "task_daily", TASK_DAILY_SQL, [period.start, period.end, team, team], TASK_DAILY_SCHEMA)
    catalog = _read(snapshot_dir, "tasks", TASKS_SQL, [], TASKS_SCHEMA)
    return (
        task_roi(daily.lazy(), catalog.lazy())
        .filter(pl.col("runs") > 0)
        .select(TASK_TABLE_COLUMNS)
        .sort("net_savings_usd", "task", descending=[True, False], nulls_last=True)
        .collect()
    )


TEAMS_SQL = "SELECT DISTINCT team FROM read_parquet(?) WHERE team IS NOT NULL ORDER BY team"


def teams(snapshot_dir: str | Path) -> list[str]:
    return _read(snapshot_dir, "task_daily", TEAMS_SQL, [], {"team": pl.String})["team"].to_list()
