"""Everything the dashboard reads: parameterized DuckDB SQL over the Parquet snapshots, returned as Polars.

The dashboard never opens the warehouse file (the pipeline may be writing it); it reads the snapshots that
`warehouse.db.export_snapshot` publishes atomically. A missing snapshot means the pipeline has not run yet:
every function then returns an empty frame with the usual columns, so pages can say so instead of failing.
Queries run on one in-memory DuckDB connection per process and thread (opening one costs 15-20 ms, more than
most queries here); it holds no views or tables, only the statement's own read_parquet(?) over the current
snapshot paths, so a republished file is read afresh by the next query that is not a cache hit.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from pipelines.transforms.roi import task_roi

DEFAULT_PERIOD_DAYS = 30
CACHE_ENTRIES = 512


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


@dataclass(frozen=True)
class Filters:
    """What the URL asks for: a period and optional provider (genai-prices id), team and task."""

    period: Period
    provider: str | None = None
    team: str | None = None
    task: str | None = None


def snapshot_file(snapshot_dir: str | Path, table: str) -> Path:
    return Path(snapshot_dir) / f"{table}.parquet"


def has_snapshot(snapshot_dir: str | Path, table: str) -> bool:
    return snapshot_file(snapshot_dir, table).is_file()


# --- reading, with a per-process cache ------------------------------------------------------------------
# Snapshots change only when the pipeline publishes (os.replace of a whole file), so a result is valid for as
# long as the files it read keep their inode, size and mtime. Every worker process keeps its own cache.

_cache: OrderedDict[tuple, pl.DataFrame] = OrderedDict()
_cache_lock = threading.Lock()


def _stamp(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def snapshot_stamp(snapshot_dir: str | Path, tables: tuple[str, ...]) -> tuple | None:
    """Identity of the current snapshot files of `tables`; None when one is missing."""
    stamps = tuple(_stamp(snapshot_file(snapshot_dir, t)) for t in tables)
    return None if any(s is None for s in stamps) else stamps


_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """This thread's connection (a forked worker makes its own: the pid is part of the key)."""
    con = getattr(_local, "con", None)
    if con is None or _local.pid != os.getpid():
        con = duckdb.connect(":memory:")
        con.execute("SET autoinstall_known_extensions = false")
        # Files are named /proc/self/fd/N (see _pinned) and N is reused for other files: no cache by name.
        con.execute("SET enable_external_file_cache = false")
        con.execute("SET parquet_metadata_cache = false")
        _local.con, _local.pid = con, os.getpid()
    return con


def _query(
    statement: str, params: list, empty_schema: dict[str, pl.DataType], frames: dict | None = None
) -> pl.DataFrame:
    con = _connection()
    names = list(frames or {})
    try:
        for name in names:
            con.register(name, frames[name].to_arrow())
        # execute(...).pl(), not sql(..., params=...).pl(): the latter converted a 68k-row result ~15x slower.
        frame = con.execute(statement, params).pl()
    finally:
        for name in names:
            con.unregister(name)
    if frame.height == 0:
        # DuckDB types an all-empty aggregate loosely; pages rely on the documented columns.
        return pl.DataFrame(schema=empty_schema)
    # A snapshot from an older pipeline may lack a newer column: it reads as NULL (unknown), never as an error.
    missing = [pl.lit(None).alias(c) for c in empty_schema if c not in frame.columns]
    return frame.with_columns(missing).select(empty_schema.keys()).cast(empty_schema)  # type: ignore[arg-type]


def cached(key: tuple, compute) -> pl.DataFrame:
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    value = compute()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return value


def read_sql(
    snapshot_dir: str | Path,
    tables: str | tuple[str, ...],
    statement: str,
    params: list,
    schema: dict,
    frames=None,
) -> pl.DataFrame:
    """Run `statement` whose first parameters are the snapshot paths of `tables`, in order.

    Empty result with `schema` when a snapshot is missing (the pipeline has not published it yet).
    `frames` is a callable returning small frames to register by name (computed from the same snapshots).
    """
    tables = (tables,) if isinstance(tables, str) else tuple(tables)
    stamp = snapshot_stamp(snapshot_dir, tables)
    if stamp is None:
        return pl.DataFrame(schema=schema)
    key = (statement, str(snapshot_dir), stamp, tuple(params))
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return cached(key, lambda: hit)
    with _pinned([snapshot_file(snapshot_dir, t) for t in tables]) as (paths, pinned_stamp):
        if pinned_stamp is None:  # unpublished between the stat and the open
            return pl.DataFrame(schema=schema)
        key = (statement, str(snapshot_dir), pinned_stamp, tuple(params))
        return cached(key, lambda: _query(statement, [*paths, *params], schema, frames() if frames else None))


_PROC_FD = Path("/proc/self/fd")


@contextmanager
def _pinned(files: list[Path]):
    """Open the snapshot files and yield paths that name exactly the opened files, with their stamp.

    The pipeline replaces a snapshot (os.replace) whenever it publishes, and DuckDB opens a file more than
    once in one query (binding reads the schema, execution the row groups); reading by name could join the
    footer of one version to the data of the next, and the query fails. /proc/self/fd/N names the open
    file itself, so a query reads one version however often it reopens it. Without /proc (not Linux) the plain
    paths are used.
    """
    fds: list[int] = []
    try:
        for path in files:
            try:
                fds.append(os.open(path, os.O_RDONLY))
            except FileNotFoundError:
                yield [], None
                return
        stamp = tuple((st.st_ino, st.st_size, st.st_mtime_ns) for st in map(os.fstat, fds))
        paths = [str(_PROC_FD / str(fd)) for fd in fds] if _PROC_FD.is_dir() else [str(f) for f in files]
        yield paths, stamp
    finally:
        for fd in fds:
            os.close(fd)


def _read(snapshot_dir: str | Path, table: str, statement: str, params: list, schema: dict) -> pl.DataFrame:
    return read_sql(snapshot_dir, table, statement, params, schema)


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
# Invoices name who billed ('Amazon Web Services'), logs the genai-prices id ('aws'). Every page filters by the
# id: the invoice side is mapped with the pipeline's own rule (`invoice_provider`), once per snapshot.

SPEND_KEYS_SQL = "SELECT DISTINCT provider AS ProviderName, service_name AS ServiceName FROM read_parquet(?)"


def _provider_map(snapshot_dir: str | Path) -> pl.DataFrame:
    from pipelines.transforms.providers import invoice_provider

    keys = read_sql(snapshot_dir, "spend_daily", SPEND_KEYS_SQL, [], {"ProviderName": pl.String, "ServiceName": pl.String})
    return keys.with_columns(invoice_provider().alias("provider_id"))


SPEND = """
WITH spend AS (
    SELECT s.*, coalesce(m.provider_id, '(no provider)') AS provider_id
    FROM read_parquet(?) s
    LEFT JOIN provider_map m
      ON s.provider IS NOT DISTINCT FROM m.ProviderName AND s.service_name IS NOT DISTINCT FROM m.ServiceName
)
"""


def _spend(snapshot_dir, statement: str, params: list, schema: dict) -> pl.DataFrame:
    return read_sql(snapshot_dir, "spend_daily", SPEND + statement, params, schema,
                    frames=lambda: {"provider_map": _provider_map(snapshot_dir)})


BILLED_SPEND_SQL = """
SELECT billing_currency,
       sum(billed_cost)                                  AS billed_cost,
       coalesce(sum(billed_cost) FILTER (WHERE is_ai), 0) AS ai_billed_cost,
       sum(line_count)                                   AS line_count
FROM spend
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider_id = ?)
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
    return _spend(snapshot_dir, BILLED_SPEND_SQL, [period.start, period.end, provider, provider], BILLED_SPEND_SCHEMA)


DAILY_BILLED_SQL = """
SELECT day, provider_id AS provider, sum(billed_cost) AS billed_cost
FROM spend
WHERE day BETWEEN ? AND ?
  AND billing_currency IS NOT DISTINCT FROM ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider_id = ?)
GROUP BY ALL
ORDER BY day, provider
"""
DAILY_BILLED_SCHEMA = {"day": pl.Date, "provider": pl.String, "billed_cost": pl.Float64}


def daily_billed_by_provider(
    snapshot_dir: str | Path, period: Period, currency: str | None, provider: str | None = None
) -> pl.DataFrame:
    """Billed cost per day and provider id in one currency (a chart shows one cost figure, one currency)."""
    return _spend(snapshot_dir, DAILY_BILLED_SQL, [period.start, period.end, currency, provider, provider],
                  DAILY_BILLED_SCHEMA)


PROVIDERS_SQL = """
SELECT provider FROM (
    SELECT provider FROM read_parquet(?) UNION SELECT provider FROM read_parquet(?)
) WHERE provider IS NOT NULL ORDER BY provider
"""


def providers(snapshot_dir: str | Path) -> list[str]:
    """Provider ids (genai-prices) seen on the invoices or in the logs."""
    from_spend = _provider_map(snapshot_dir)["provider_id"].drop_nulls().to_list()
    from_logs = read_sql(snapshot_dir, "usage_daily", "SELECT DISTINCT provider FROM read_parquet(?)", [],
                         {"provider": pl.String})["provider"].drop_nulls().to_list()
    return sorted(set(from_spend) | set(from_logs))


# --- overview: the request-log side ---------------------------------------------------------------------

USAGE_SUMMARY_SQL = """
SELECT coalesce(sum(requests), 0)          AS requests,
       coalesce(sum(unpriced_requests), 0) AS unpriced_requests,
       sum(cost_usd)                       AS priced_cost_usd
FROM read_parquet(?)
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
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


def usage_summary(
    snapshot_dir: str | Path, period: Period, team: str | None = None, provider: str | None = None
) -> pl.DataFrame:
    """One row: requests, unpriced requests, priced cost from the logs (USD) and price coverage.

    The priced cost counts priced requests only; unpriced ones are not $0, they are outside the figure.
    """
    schema = {k: v for k, v in USAGE_SUMMARY_SCHEMA.items() if k != "price_coverage"}
    frame = _read(snapshot_dir, "usage_daily", USAGE_SUMMARY_SQL,
                  [period.start, period.end, team, team, provider, provider], schema)
    if frame.height == 0:
        return pl.DataFrame(schema=USAGE_SUMMARY_SCHEMA)
    return frame.lazy().with_columns(price_coverage()).collect()


# --- tasks ----------------------------------------------------------------------------------------------

TASK_DAILY_SQL = """
SELECT * FROM read_parquet(?)
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
    "allocated_cost_usd": pl.Float64,
}
# task_roi sums task_daily per task; summing in SQL first hands it one row per task instead of every
# (day, task, team) row of the period (68k for a year at 10M events). SQL's sum skips NULLs and is NULL when
# every value is: the same as task_roi's priced sums, so the figures do not change.
TASK_TOTALS_SQL = """
SELECT task, sum(runs) AS runs, sum(successes) AS successes, sum(failures) AS failures,
       sum(requests) AS requests, sum(error_requests) AS error_requests,
       sum(unpriced_requests) AS unpriced_requests, sum(ai_cost_usd) AS ai_cost_usd,
       sum(allocated_cost_usd) AS allocated_cost_usd
FROM read_parquet(?)
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
GROUP BY task
ORDER BY task
"""
TASK_TOTALS_SCHEMA = {k: v for k, v in TASK_DAILY_SCHEMA.items() if k not in ("day", "team")}
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
    "allocated_cost_usd",
    "allocated_cost_per_success_usd",
    "allocated_net_savings_usd",
    "allocated_roi",
    "loses_money",
]


def task_daily(snapshot_dir: str | Path, period: Period, team: str | None = None) -> pl.DataFrame:
    frame = _read(snapshot_dir, "task_daily", TASK_DAILY_SQL, [period.start, period.end, team, team], TASK_DAILY_SCHEMA)
    return frame.select(TASK_DAILY_SCHEMA.keys()) if frame.height else frame


def task_table(snapshot_dir: str | Path, period: Period, team: str | None = None) -> pl.DataFrame:
    """Per task active in the period: outcomes, AI cost (priced from logs, and allocated from invoices), people's
    time avoided and spent, net savings and ROI on each cost.

    The arithmetic is the pipeline's own (`pipelines.transforms.roi.task_roi`) so the page and the task_roi
    mart can never disagree; only the period and team filter differ. Sorted by allocated net savings, best
    first (the allocated cost is the invoice-true one; the logs' cost stands in where no invoice is loaded).
    """
    totals = _read(snapshot_dir, "task_daily", TASK_TOTALS_SQL, [period.start, period.end, team, team],
                   TASK_TOTALS_SCHEMA)
    catalog = _read(snapshot_dir, "tasks", TASKS_SQL, [], TASKS_SCHEMA)
    key = ("task_table", str(snapshot_dir), snapshot_stamp(snapshot_dir, ("task_daily", "tasks")), period, team)
    return cached(key, lambda: (
        task_roi(totals.lazy(), catalog.lazy())
        .filter((pl.col("runs") > 0) | (pl.col("allocated_cost_usd").fill_null(0) != 0))
        .select(TASK_TABLE_COLUMNS)
        .sort("allocated_net_savings_usd", "task", descending=[True, False], nulls_last=True)
        .collect()
    ))


TEAMS_SQL = "SELECT DISTINCT team FROM read_parquet(?) WHERE team IS NOT NULL ORDER BY team"


def teams(snapshot_dir: str | Path) -> list[str]:
    return _read(snapshot_dir, "task_daily", TEAMS_SQL, [], {"team": pl.String})["team"].to_list()


TASK_NAMES_SQL = "SELECT DISTINCT task FROM read_parquet(?) WHERE task IS NOT NULL ORDER BY task"


def task_names(snapshot_dir: str | Path) -> list[str]:
    return _read(snapshot_dir, "task_daily", TASK_NAMES_SQL, [], {"task": pl.String})["task"].to_list()


TASK_TREND_SQL = """
SELECT day, sum(runs) AS runs, sum(successes) AS successes,
       sum(ai_cost_usd) AS ai_cost_usd, sum(allocated_cost_usd) AS allocated_cost_usd,
       sum(allocated_cost_usd) / nullif(sum(successes), 0) AS allocated_cost_per_success_usd
FROM read_parquet(?)
WHERE day BETWEEN ? AND ? AND task = ? AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
GROUP BY day ORDER BY day
"""
TASK_TREND_SCHEMA = {
    "day": pl.Date,
    "runs": pl.Int64,
    "successes": pl.Int64,
    "ai_cost_usd": pl.Float64,
    "allocated_cost_usd": pl.Float64,
    "allocated_cost_per_success_usd": pl.Float64,
}


def task_trend(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """One task per day: runs, successes, allocated cost (USD) and allocated cost per success."""
    return _read(snapshot_dir, "task_daily", TASK_TREND_SQL,
                 [f.period.start, f.period.end, f.task, f.team, f.team], TASK_TREND_SCHEMA)


# --- models ---------------------------------------------------------------------------------------------

MODEL_USAGE_SQL = """
SELECT provider, model,
       sum(requests) AS requests, sum(unpriced_requests) AS unpriced_requests,
       sum(input_tokens) AS input_tokens, sum(cache_read_tokens) AS cache_read_tokens,
       sum(cache_write_tokens) AS cache_write_tokens, sum(output_tokens) AS output_tokens,
       sum(total_tokens) AS total_tokens, sum(priced_tokens) AS priced_tokens,
       sum(cost_usd) AS cost_usd,
       sum(cost_usd) / nullif(sum(priced_tokens), 0) * 1e6 AS usd_per_mtok
FROM read_parquet(?)
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR task = ?)
GROUP BY provider, model
ORDER BY cost_usd DESC NULLS LAST, requests DESC, provider, model
"""
MODEL_USAGE_SCHEMA = {
    "provider": pl.String,
    "model": pl.String,
    "requests": pl.Int64,
    "unpriced_requests": pl.Int64,
    "input_tokens": pl.Int64,
    "cache_read_tokens": pl.Int64,
    "cache_write_tokens": pl.Int64,
    "output_tokens": pl.Int64,
    "total_tokens": pl.Int64,
    "priced_tokens": pl.Int64,
    "cost_usd": pl.Float64,
    "usd_per_mtok": pl.Float64,
}


def model_usage(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Per provider and model: requests, the token mix, priced cost from the logs and the effective rate
    (priced cost / priced tokens x 1e6, USD per million tokens: what a token really cost with this mix)."""
    return _read(snapshot_dir, "usage_daily", MODEL_USAGE_SQL,
                 [f.period.start, f.period.end, f.provider, f.provider, f.team, f.team, f.task, f.task],
                 MODEL_USAGE_SCHEMA)


WHATIF_SQL = """
SELECT task, provider, model, alt_provider, alt_model, is_eligible_listed, requests, unpriced_requests,
       current_cost_usd, alt_cost_usd, savings_usd, savings_pct,
       current_runs, current_success_rate, current_cost_per_success_usd,
       alt_runs, alt_success_rate, alt_cost_per_success_usd, alt_cache_read_as_input
FROM read_parquet(?)
WHERE (CAST(? AS VARCHAR) IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR task = ?)
ORDER BY savings_usd DESC NULLS LAST, task, model, alt_model
"""
WHATIF_SCHEMA = {
    "task": pl.String,
    "provider": pl.String,
    "model": pl.String,
    "alt_provider": pl.String,
    "alt_model": pl.String,
    "is_eligible_listed": pl.Boolean,
    "requests": pl.Int64,
    "unpriced_requests": pl.Int64,
    "current_cost_usd": pl.Float64,
    "alt_cost_usd": pl.Float64,
    "savings_usd": pl.Float64,
    "savings_pct": pl.Float64,
    "current_runs": pl.Int64,
    "current_success_rate": pl.Float64,
    "current_cost_per_success_usd": pl.Float64,
    "alt_runs": pl.Int64,
    "alt_success_rate": pl.Float64,
    "alt_cost_per_success_usd": pl.Float64,
    "alt_cache_read_as_input": pl.Boolean,
}


def whatif(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """The model_whatif mart (over everything loaded, not the period), best saving first."""
    return _read(snapshot_dir, "model_whatif", WHATIF_SQL, [f.provider, f.provider, f.task, f.task], WHATIF_SCHEMA)


# --- reconciliation -------------------------------------------------------------------------------------

RECON_SQL = """
SELECT provider, month,
       sum(billed_cost_usd) AS billed_cost_usd, sum(logged_cost_usd) AS logged_cost_usd,
       sum(difference_usd) AS difference_usd,
       100 * sum(difference_usd) / nullif(sum(billed_cost_usd), 0) AS difference_pct,
       sum(credits_usd) AS credits_usd, sum(discount_usd) AS discount_usd,
       sum(unpriced_models_usd) AS unpriced_models_usd, sum(missing_from_logs_usd) AS missing_from_logs_usd,
       sum(missing_from_invoice_usd) AS missing_from_invoice_usd, sum(unexplained_usd) AS unexplained_usd,
       sum(logged_requests) AS logged_requests, sum(unpriced_requests) AS unpriced_requests,
       sum(non_usd_lines) AS non_usd_lines
FROM read_parquet(?)
WHERE coalesce(day, month) BETWEEN date_trunc('month', CAST(? AS DATE)) AND ?
  AND (day IS NULL OR day BETWEEN ? AND ?)
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
GROUP BY provider, month
ORDER BY month DESC, billed_cost_usd DESC NULLS LAST, provider
"""
RECON_SCHEMA = {
    "provider": pl.String,
    "month": pl.Date,
    "billed_cost_usd": pl.Float64,
    "logged_cost_usd": pl.Float64,
    "difference_usd": pl.Float64,
    "difference_pct": pl.Float64,
    "credits_usd": pl.Float64,
    "discount_usd": pl.Float64,
    "unpriced_models_usd": pl.Float64,
    "missing_from_logs_usd": pl.Float64,
    "missing_from_invoice_usd": pl.Float64,
    "unexplained_usd": pl.Float64,
    "logged_requests": pl.Int64,
    "unpriced_requests": pl.Int64,
    "non_usd_lines": pl.Int64,
}


def reconciliation(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Invoice against logs per provider and month, over the days of the period (a month billed as one period
    counts whole when the period touches it)."""
    p = f.period
    return _read(snapshot_dir, "reconciliation", RECON_SQL,
                 [p.start, p.end, p.start, p.end, f.provider, f.provider], RECON_SCHEMA)


UNATTRIBUTED_SQL = """
SELECT provider, basis, sum(billed_cost_usd) AS billed_cost_usd, sum(effective_cost_usd) AS effective_cost_usd
FROM read_parquet(?)
WHERE task = 'unattributed' AND day BETWEEN ? AND ? AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
GROUP BY provider, basis
ORDER BY billed_cost_usd DESC NULLS LAST, provider, basis
"""
UNATTRIBUTED_SCHEMA = {
    "provider": pl.String,
    "basis": pl.String,
    "billed_cost_usd": pl.Float64,
    "effective_cost_usd": pl.Float64,
}


def unattributed(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Allocated AI cost no task used, by provider and why (allocated_cost basis)."""
    return _read(snapshot_dir, "allocated_cost", UNATTRIBUTED_SQL,
                 [f.period.start, f.period.end, f.provider, f.provider], UNATTRIBUTED_SCHEMA)


UNPRICED_SQL = """
SELECT provider, model, sum(requests) AS requests, sum(unpriced_requests) AS unpriced_requests,
       sum(total_tokens) - sum(priced_tokens) AS unpriced_tokens,
       1 - sum(unpriced_requests) / nullif(sum(requests), 0) AS price_coverage
FROM read_parquet(?)
WHERE day BETWEEN ? AND ? AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
GROUP BY provider, model
HAVING sum(unpriced_requests) > 0
ORDER BY unpriced_requests DESC, provider, model
"""
UNPRICED_SCHEMA = {
    "provider": pl.String,
    "model": pl.String,
    "requests": pl.Int64,
    "unpriced_requests": pl.Int64,
    "unpriced_tokens": pl.Int64,
    "price_coverage": pl.Float64,
}


def unpriced(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Models with requests the price table could not price (their cost is unknown, never $0)."""
    return _read(snapshot_dir, "usage_daily", UNPRICED_SQL,
                 [f.period.start, f.period.end, f.provider, f.provider], UNPRICED_SCHEMA)


# --- waste ----------------------------------------------------------------------------------------------

WASTE_FILTER = """
WHERE day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR task = ?)
"""
WASTE_SUMMARY_SQL = """
SELECT category, is_estimate, any_value(explanation) AS explanation,
       sum(requests) AS requests, sum(affected_cost_usd) AS affected_cost_usd, sum(cost_usd) AS cost_usd
FROM read_parquet(?)""" + WASTE_FILTER + """
GROUP BY category, is_estimate
ORDER BY is_estimate, cost_usd DESC NULLS LAST, category
"""
WASTE_SUMMARY_SCHEMA = {
    "category": pl.String,
    "is_estimate": pl.Boolean,
    "explanation": pl.String,
    "requests": pl.Int64,
    "affected_cost_usd": pl.Float64,
    "cost_usd": pl.Float64,
}
WASTE_DETAIL_SQL = """
SELECT category, is_estimate, provider, model, task, team,
       sum(requests) AS requests, sum(affected_cost_usd) AS affected_cost_usd, sum(cost_usd) AS cost_usd
FROM read_parquet(?)""" + WASTE_FILTER + """
GROUP BY ALL
ORDER BY cost_usd DESC NULLS LAST, category, provider, model, task, team
LIMIT ?
"""
WASTE_DETAIL_SCHEMA = {
    "category": pl.String,
    "is_estimate": pl.Boolean,
    "provider": pl.String,
    "model": pl.String,
    "task": pl.String,
    "team": pl.String,
    "requests": pl.Int64,
    "affected_cost_usd": pl.Float64,
    "cost_usd": pl.Float64,
}
WASTE_DAILY_SQL = """
SELECT day, category, sum(cost_usd) AS cost_usd
FROM read_parquet(?)""" + WASTE_FILTER + """ AND NOT is_estimate
GROUP BY day, category ORDER BY day, category
"""
WASTE_DAILY_SCHEMA = {"day": pl.Date, "category": pl.String, "cost_usd": pl.Float64}


def _waste_params(f: Filters) -> list:
    return [f.period.start, f.period.end, f.provider, f.provider, f.team, f.team, f.task, f.task]


def waste_summary(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    return _read(snapshot_dir, "waste", WASTE_SUMMARY_SQL, _waste_params(f), WASTE_SUMMARY_SCHEMA)


def waste_detail(snapshot_dir: str | Path, f: Filters, limit: int | None = None) -> pl.DataFrame:
    """Where waste happens, largest first; the page asks for the top rows only, the CSV for all of them."""
    return _read(snapshot_dir, "waste", WASTE_DETAIL_SQL, [*_waste_params(f), limit], WASTE_DETAIL_SCHEMA)


def waste_daily(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Measured waste (recorded spend, never the estimates) per day and category."""
    return _read(snapshot_dir, "waste", WASTE_DAILY_SQL, _waste_params(f), WASTE_DAILY_SCHEMA)


# --- overview: forecast, budgets, anomalies -------------------------------------------------------------

FORECAST_SQL = """
SELECT month, as_of, scope, scope_value, days_elapsed, days_remaining, actual_usd, forecast_usd,
       forecast_low_usd, forecast_high_usd
FROM read_parquet(?)
WHERE scope = ? AND scope_value IS NOT DISTINCT FROM ?
"""
FORECAST_SCHEMA = {
    "month": pl.Date,
    "as_of": pl.Date,
    "scope": pl.String,
    "scope_value": pl.String,
    "days_elapsed": pl.Int64,
    "days_remaining": pl.Int64,
    "actual_usd": pl.Float64,
    "forecast_usd": pl.Float64,
    "forecast_low_usd": pl.Float64,
    "forecast_high_usd": pl.Float64,
}


def forecast(snapshot_dir: str | Path, provider: str | None = None, team: str | None = None) -> pl.DataFrame:
    """This month's forecast (allocated AI cost, USD) for the total, or the provider or team asked for."""
    scope, value = ("provider", provider) if provider else ("team", team) if team else ("total", None)
    return _read(snapshot_dir, "spend_forecast", FORECAST_SQL, [scope, value], FORECAST_SCHEMA)


BUDGETS_SQL = """
SELECT budget, team, provider, monthly_usd, month, as_of, cost_basis, actual_usd, forecast_usd,
       actual_pct, forecast_pct, status, unpriced_requests
FROM read_parquet(?)
WHERE (CAST(? AS VARCHAR) IS NULL OR provider IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR team IS NULL OR team = ?)
ORDER BY budget
"""
BUDGETS_SCHEMA = {
    "budget": pl.String,
    "team": pl.String,
    "provider": pl.String,
    "monthly_usd": pl.Float64,
    "month": pl.Date,
    "as_of": pl.Date,
    "cost_basis": pl.String,
    "actual_usd": pl.Float64,
    "forecast_usd": pl.Float64,
    "actual_pct": pl.Float64,
    "forecast_pct": pl.Float64,
    "status": pl.String,
    "unpriced_requests": pl.Int64,
}


def budgets(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    return _read(snapshot_dir, "budget_status", BUDGETS_SQL, [f.provider, f.provider, f.team, f.team], BUDGETS_SCHEMA)


ANOMALIES_SQL = """
SELECT day, provider, model, team, direction, cost_usd, baseline_usd, cost_usd - baseline_usd AS change_usd, score
FROM read_parquet(?)
WHERE is_anomaly AND day BETWEEN ? AND ?
  AND (CAST(? AS VARCHAR) IS NULL OR provider = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR team = ?)
ORDER BY day DESC, abs(cost_usd - baseline_usd) DESC, provider, model, team
"""
ANOMALIES_SCHEMA = {
    "day": pl.Date,
    "provider": pl.String,
    "model": pl.String,
    "team": pl.String,
    "direction": pl.String,
    "cost_usd": pl.Float64,
    "baseline_usd": pl.Float64,
    "change_usd": pl.Float64,
    "score": pl.Float64,
}


def anomalies(snapshot_dir: str | Path, f: Filters, days: int = 7) -> pl.DataFrame:
    """Flagged days (priced usage, USD) in the last `days` days of the period, newest first."""
    start = max(f.period.start, f.period.end - timedelta(days=days - 1))
    return _read(snapshot_dir, "anomalies", ANOMALIES_SQL,
                 [start, f.period.end, f.provider, f.provider, f.team, f.team], ANOMALIES_SCHEMA)


# --- data health ----------------------------------------------------------------------------------------

SOURCES_SQL = """
WITH latest AS (
    SELECT * FROM read_parquet(?)
    QUALIFY row_number() OVER (PARTITION BY source, location ORDER BY loaded_at DESC) = 1
)
SELECT source, any_value(kind) AS kind, count(*) AS files,
       count(*) FILTER (WHERE status <> 'quarantined') AS files_loaded,
       count(*) FILTER (WHERE status = 'quarantined') AS files_quarantined,
       coalesce(sum(rows) FILTER (WHERE status <> 'quarantined'), 0) AS rows,
       max(loaded_at) AS last_load
FROM latest GROUP BY source ORDER BY source
"""
SOURCES_SCHEMA = {
    "source": pl.String,
    "kind": pl.String,
    "files": pl.Int64,
    "files_loaded": pl.Int64,
    "files_quarantined": pl.Int64,
    "rows": pl.Int64,
    "last_load": pl.Datetime("us"),
}
QUARANTINED_SQL = """
SELECT source, kind, location, error, loaded_at FROM read_parquet(?)
QUALIFY row_number() OVER (PARTITION BY source, location ORDER BY loaded_at DESC) = 1 AND status = 'quarantined'
ORDER BY loaded_at DESC, source, location
"""
QUARANTINED_SCHEMA = {
    "source": pl.String,
    "kind": pl.String,
    "location": pl.String,
    "error": pl.String,
    "loaded_at": pl.Datetime("us"),
}
COVERAGE_SQL = """
SELECT provider, sum(requests) AS requests, sum(unpriced_requests) AS unpriced_requests,
       1 - sum(unpriced_requests) / nullif(sum(requests), 0) AS price_coverage,
       count(DISTINCT model) FILTER (WHERE unpriced_requests > 0) AS unpriced_models
FROM read_parquet(?)
WHERE day BETWEEN ? AND ?
GROUP BY provider ORDER BY price_coverage, provider
"""
COVERAGE_SCHEMA = {
    "provider": pl.String,
    "requests": pl.Int64,
    "unpriced_requests": pl.Int64,
    "price_coverage": pl.Float64,
    "unpriced_models": pl.Int64,
}


def sources(snapshot_dir: str | Path) -> pl.DataFrame:
    """Per config source: files read (their latest attempt), quarantined, rows loaded, last load (UTC)."""
    return _read(snapshot_dir, "ingest_log", SOURCES_SQL, [], SOURCES_SCHEMA)


def quarantined(snapshot_dir: str | Path) -> pl.DataFrame:
    """Files whose latest attempt was refused, with the reason (a file fixed and re-read leaves this list)."""
    return _read(snapshot_dir, "ingest_log", QUARANTINED_SQL, [], QUARANTINED_SCHEMA)


def coverage(snapshot_dir: str | Path, period: Period) -> pl.DataFrame:
    return _read(snapshot_dir, "usage_daily", COVERAGE_SQL, [period.start, period.end], COVERAGE_SCHEMA)


def snapshot_files(snapshot_dir: str | Path) -> pl.DataFrame:
    """When each snapshot was last published (file mtime, UTC) and its size."""
    from datetime import datetime, timezone

    rows = []
    for path in sorted(Path(snapshot_dir).glob("*.parquet")):
        try:
            st = path.stat()
        except OSError:
            continue
        rows.append({"table": path.stem, "published_at": datetime.fromtimestamp(st.st_mtime, timezone.utc)
                     .replace(tzinfo=None), "bytes": st.st_size})
    return pl.DataFrame(rows, schema={"table": pl.String, "published_at": pl.Datetime("us"), "bytes": pl.Int64})
