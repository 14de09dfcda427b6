"""The pipeline's steps as plain functions over a warehouse connection, free of Dagster.

Dagster assets (pipelines/defs/) are thin wrappers around these, and tests call them directly.
Loads and the daily marts take an optional window (a partition's dates, end exclusive): a load then reads
only the units of those dates, and a daily mart reads and replaces only those days' rows, so no step reads
all of history to process one day. The other marts are small rollups rebuilt whole.
No build holds all events either: marts over events read a chunk of whole days at a time (`day_chunks`) and
add the chunks' per-day sums up, so memory follows the chunk, not the history (bench/scale.py measures it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines.config import COST_KINDS, USAGE_KINDS, AispendConfig
from pipelines.errors import SourceError
from pipelines.ingest import (
    FileResult, Log, Window, file_checksum, ingest_source, ingest_state, last_ingest, partition_period, record,
)
from pipelines.pricing.price import price_usage
from pipelines.pricing.price_table import build_price_table, price_table_version
from pipelines.schemas import PRICES, TASKS, conform
from pipelines.sources import plan_units
from pipelines.sources.task_catalog import read_task_catalog
from pipelines.alerts import alerts_sent_frame, pending_alerts, send_alerts
from pipelines.transforms.allocate import allocated_cost_from, weights_from_daily
from pipelines.transforms.anomalies import anomalies, spend_by_day_from_daily
from pipelines.transforms.budgets import budget_status
from pipelines.transforms.forecast import forecast_month_end
from pipelines.transforms.reconcile import combine_log_sides, daily_months, log_side, reconcile, scoped_lines
from pipelines.transforms.roi import task_daily, task_roi
from pipelines.transforms.waste import waste
from pipelines.transforms.whatif import model_whatif_from, thresholds, whatif_partials
from pipelines.transforms.spend import spend_daily
from pipelines.transforms.usage import usage_daily
from warehouse.db import SNAPSHOT_TABLES, Warehouse, as_warehouse, export_snapshot, query, replace_rows, sql


ALLOCATED_BASIS = "allocated"


def _quiet(message: str) -> None:
    pass


def load_prices(con: duckdb.DuckDBPyConnection, config: AispendConfig, log: Log = _quiet) -> tuple[pl.DataFrame, str]:
    prices = conform(build_price_table(config.prices.overrides), PRICES)
    replace_rows(con, "prices", prices)
    version = price_table_version(prices)
    log(f"prices: {prices.height:,} price rows ({len(config.prices.overrides)} overrides), version {version}")
    return prices, version


def current_prices(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, str]:
    prices = conform(query(con, "SELECT * FROM prices"), PRICES)
    return prices, price_table_version(prices)


def load_tasks(con: duckdb.DuckDBPyConnection, config: AispendConfig, log: Log = _quiet) -> FileResult | None:
    """Replace the task catalog; a bad catalog is quarantined and the previous one stays."""
    path = config.task_catalog_path
    if path is None:
        log("tasks: no task_catalog in the config; ROI will value no task")
        return None
    location = str(path)
    try:
        checksum = file_checksum(path)
        tasks = conform(read_task_catalog(location), TASKS)
    except (SourceError, OSError) as exc:
        reason = exc.message if isinstance(exc, SourceError) else f"{location}: cannot read file: {exc}"
        record(con, source="task_catalog", kind="task_catalog", location=location, checksum=None,
               status="quarantined", error=reason)
        log(f"QUARANTINED {reason}")
        return FileResult("task_catalog", location, "quarantined", 0, reason)
    last = last_ingest(con, "task_catalog", location)
    if last and last["status"] == "loaded" and last["checksum"] == checksum:
        log(f"tasks: {location} unchanged ({tasks.height} tasks)")
        return FileResult("task_catalog", location, "unchanged", 0)
    replace_rows(con, "tasks", tasks)
    record(con, source="task_catalog", kind="task_catalog", location=location, checksum=checksum,
           status="loaded", rows=tasks.height)
    log(f"tasks: {tasks.height} tasks from {location}")
    return FileResult("task_catalog", location, "loaded", tasks.height)


def load_sources(
    db: Warehouse | duckdb.DuckDBPyConnection,
    config: AispendConfig,
    kinds: set[str],
    *,
    pricer: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    price_version: str | None = None,
    log: Log = _quiet,
    window: Window | None = None,
) -> list[FileResult]:
    results: list[FileResult] = []
    for source in config.sources:
        if source.kind not in kinds:
            continue
        origin = config.resolve(source.path) if source.path else source.options.get("base_url", "the provider's API")
        log(f"{source.name}: reading kind {source.kind} from {origin}")
        results += ingest_source(
            db, source, lambda: plan_units(config, source), pricer=pricer, price_version=price_version, log=log,
            window=window,
        )
    return results


def load_cost_lines(
    db: Warehouse | duckdb.DuckDBPyConnection, config: AispendConfig, log: Log = _quiet, window: Window | None = None
) -> list[FileResult]:
    return load_sources(db, config, COST_KINDS, log=log, window=window)


def usage_pricing(
    db: Warehouse | duckdb.DuckDBPyConnection, config: AispendConfig
) -> tuple[Callable[[pl.DataFrame], pl.DataFrame], str]:
    """The pricer for usage frames and the version it stamps on each unit (read in one short connection).

    The version covers the table, the discounts, the aliases and the pricing rules, so changing any of them
    reprices usage already loaded.
    """
    from pipelines.pricing.aliases import apply_model_aliases
    from pipelines.pricing.price import pricing_version

    with as_warehouse(db).connect() as con:
        prices, table_version = current_prices(con)
    lazy_prices = prices.lazy()
    discounts, aliases = config.prices.discounts, config.model_aliases

    def pricer(frame: pl.DataFrame) -> pl.DataFrame:
        return price_usage(apply_model_aliases(frame.lazy(), aliases), lazy_prices, discounts).collect()

    return pricer, pricing_version(table_version, discounts, aliases)


def load_usage_events(
    db: Warehouse | duckdb.DuckDBPyConnection, config: AispendConfig, log: Log = _quiet, window: Window | None = None
) -> list[FileResult]:
    """Read usage sources, apply model aliases and price them against the price table as loaded (rule 7)."""
    pricer, version = usage_pricing(db, config)
    return load_sources(db, config, USAGE_KINDS, pricer=pricer, price_version=version, log=log, window=window)


@dataclass
class Pending:
    """What a run without dates has to do for one table: the partitions of new or changed units, and the
    undated units that changed (their rows may sit on any day: see `rows_span`)."""

    partitions: set[str] = field(default_factory=set)
    undated: list[str] = field(default_factory=list)

    def window(self) -> Window | None:
        periods = [partition_period(p) for p in self.partitions]
        return (min(s for s, _ in periods), max(e for _, e in periods)) if periods else None


def pending(db: Warehouse | duckdb.DuckDBPyConnection, config: AispendConfig, table: str) -> Pending:
    """Plan every source of a table and compare fingerprints with ingest_log, reading no data file.

    A unit is pending when it is new, changed, always re-read (fingerprint None, e.g. recent API days),
    quarantined last time, or (usage) priced with another price table. A unit whose fingerprint cannot be
    taken (a missing file) is pending too: its own run will quarantine it and say why.
    """
    db = as_warehouse(db)
    kinds = COST_KINDS if table == "cost_lines" else USAGE_KINDS
    version = usage_pricing(db, config)[1] if table == "usage_events" else None
    out = Pending()
    for source in config.sources:
        if source.kind not in kinds:
            continue
        try:
            units = plan_units(config, source)
        except SourceError:
            out.undated.append(source.name)  # the run will quarantine the source and say why
            continue
        state = ingest_state(db, source)
        for unit in units:
            last = state.get(unit.location)
            try:
                checksum = unit.fingerprint()
            except SourceError:
                checksum = None
            done = (checksum is not None and last is not None and last["status"] in ("loaded", "replaced")
                    and last["checksum"] == checksum and last["price_version"] == version)
            if done:
                continue
            if unit.partition is None:
                out.undated.append(unit.location)
            else:
                out.partitions.add(unit.partition)
    return out


_TIME_COLUMN = {"usage_events": "event_time", "cost_lines": "ChargePeriodStart"}


def rows_span(db: Warehouse | duckdb.DuckDBPyConnection, table: str, locations: list[str]) -> Window | None:
    """The days the rows of these files sit on (for marts to rebuild after an undated file changed)."""
    if not locations:
        return None
    column = _TIME_COLUMN[table]
    with as_warehouse(db).connect() as con:
        lo, hi = con.execute(
            f'SELECT min("{column}")::DATE, max("{column}")::DATE FROM {table} WHERE x_source_file IN '
            f'(SELECT unnest(?))', [locations]
        ).fetchone()
    return (lo, hi + timedelta(days=1)) if lo is not None else None


def hull(*windows: Window | None) -> Window | None:
    """The smallest window covering all of these (a single-run backfill covers one contiguous range)."""
    found = [w for w in windows if w is not None]
    return (min(w[0] for w in found), max(w[1] for w in found)) if found else None


# Columns no mart reads: leaving them in DuckDB keeps the frames a mart rebuild pulls into memory smaller
# (cost_lines' Tags alone is often the widest column of a bill).
UNREAD_COLUMNS = {
    "usage_events": {"user_id", "project", "latency_ms", "price_source", "x_source_file"},
    "cost_lines": {"Tags", "ChargeDescription", "BillingAccountName", "SubAccountName", "InvoiceIssuerName",
                   "InvoiceId", "RegionName", "AvailabilityZone", "ResourceName", "SkuPriceId", "x_source_file"},
}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    skip = UNREAD_COLUMNS.get(table, set())
    names = query(con, f"SELECT * FROM {table} LIMIT 0").columns
    return ", ".join(f'"{c}"' for c in names if c not in skip)


def _rows_in(
    con: duckdb.DuckDBPyConnection, table: str, column: str, window: Window, columns: Sequence[str] | None = None
) -> pl.LazyFrame:
    names = ", ".join(f'"{c}"' for c in columns) if columns else _columns(con, table)
    return query(con, f'SELECT {names} FROM {table} WHERE "{column}" >= ? AND "{column}" < ?', list(window)).lazy()


def _table(con: duckdb.DuckDBPyConnection, name: str) -> pl.LazyFrame:
    return query(con, f"SELECT {_columns(con, name)} FROM {name}").lazy()


# The usage_events columns each mart's transform reads: a chunk of events holds only these (run and request
# ids, the widest, only where runs are counted). A transform that starts reading another column fails loudly
# (ColumnNotFoundError) in the tests until it is added here.
_TOKENS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"]
_RUNS = ["event_time", "task", "team", "run_id", "request_id", "outcome", "status", "request_count", "cost_usd"]
USAGE_READS = {
    "usage_daily": ["event_time", "provider", "model", "task", "team", "status", "request_count", "cost_usd",
                    *_TOKENS, "reasoning_tokens"],
    "task_daily": _RUNS,
    "reconciliation": ["event_time", "provider", "model", "request_count", "cost_usd", *_TOKENS],
    "model_whatif": [*_RUNS, "provider", "model", *_TOKENS, "is_batch", "service_tier"],
    "waste": [*_RUNS, "provider", "model", *_TOKENS, "is_batch", "service_tier"],
}


def _events_in(con: duckdb.DuckDBPyConnection, mart: str, window: Window) -> pl.LazyFrame:
    return _rows_in(con, "usage_events", "event_time", window, USAGE_READS[mart])


def _ai_cost_lines(con: duckdb.DuckDBPyConnection, window: Window | None = None) -> pl.LazyFrame:
    """The AI lines of the bill (every line the usage-facing marts look at), optionally charged in a window."""
    where = "(coalesce(x_is_ai, false) OR x_ai_category IS NOT NULL)"
    params: list = []
    if window is not None:
        where += ' AND "ChargePeriodStart" >= ? AND "ChargePeriodStart" < ?'
        params = list(window)
    return query(con, f"SELECT {_columns(con, 'cost_lines')} FROM cost_lines WHERE {where}", params).lazy()


# Marts built from events read them a chunk of whole days at a time, adding days to a chunk until it holds
# MAX_CHUNK_EVENTS: a rebuild holds a few million events whatever the history or the daily volume (a day with
# more is a chunk of its own). A first run and a range backfill are chunked the same way.
MAX_CHUNK_EVENTS = 3_000_000

# A run counts on the day of its first request; a chunk reads this much either side so that a run crossing
# midnight is whole and counted once, on its first day. A run with gaps longer than this is cut at the margin.
RUN_MARGIN = timedelta(days=1)


def span(con: duckdb.DuckDBPyConnection, table: str, column: str) -> Window | None:
    """The days a table's rows sit on, [first, last + 1)."""
    lo, hi = con.execute(f'SELECT min("{column}")::DATE, max("{column}")::DATE FROM {table}').fetchone()
    return (lo, hi + timedelta(days=1)) if lo is not None else None


def day_chunks(
    con: duckdb.DuckDBPyConnection, window: Window, table: str = "usage_events", column: str = "event_time",
    max_rows: int | None = None,
) -> list[Window]:
    """Contiguous chunks of whole days covering `window`, each holding at most `max_rows` of `table` (or one day).

    Only the per-day row counts are read (one scan of the time column).
    """
    limit = max_rows or MAX_CHUNK_EVENTS
    counts = dict(con.execute(
        f'SELECT "{column}"::DATE, count(*) FROM {table} WHERE "{column}" >= ? AND "{column}" < ? GROUP BY 1',
        list(window),
    ).fetchall())
    out: list[Window] = []
    start, held = window[0], 0
    day = window[0]
    while day < window[1]:
        n = counts.get(day, 0)
        if held and held + n > limit:
            out.append((start, day))
            start, held = day, 0
        held += n
        day += timedelta(days=1)
    if start < window[1]:
        out.append((start, window[1]))
    return out


def _kept(frame: pl.DataFrame) -> pl.DataFrame:
    """A chunk's small result, copied out of the chunk's memory before the next chunk is read.

    Polars strings are views into the buffers they were cut from, so a few thousand group keys kept from a chunk
    pin the whole chunk of events: at 100M events, reconciliation's 40 kept partials held 11.5 GB
    (bench/README.md). A round trip through Arrow's plain strings copies just the rows kept.
    """
    return pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))


def _in_days(column: str, window: Window) -> pl.Expr:
    return (pl.col(column) >= window[0]) & (pl.col(column) < window[1])


def _margin(window: Window) -> Window:
    return (window[0] - RUN_MARGIN, window[1] + RUN_MARGIN)


def _replace_mart(con: duckdb.DuckDBPyConnection, table: str, frames: list[pl.DataFrame], window: Window | None,
                  column: str = "day") -> pl.DataFrame:
    """Write a mart built in chunks in one transaction: all of it, or (windowed) only the window's days."""
    frame = pl.concat(frames, how="vertical_relaxed") if frames else query(con, f"SELECT * FROM {table} LIMIT 0")
    if window is None:
        replace_rows(con, table, frame)
    else:
        replace_rows(con, table, frame, between=(column, *window))
    return frame


def _target(con: duckdb.DuckDBPyConnection, window: Window | None, *spans: tuple[str, str]) -> Window | None:
    return window if window is not None else hull(*(span(con, table, column) for table, column in spans))


def build_spend_daily(con: duckdb.DuckDBPyConnection, window: Window | None = None) -> pl.DataFrame:
    """The invoice per day; with a window, only the lines charged in it, replacing only its days."""
    target = _target(con, window, ("cost_lines", "ChargePeriodStart"))
    frames = [
        _kept(spend_daily(_rows_in(con, "cost_lines", "ChargePeriodStart", part)).collect())
        for part in (day_chunks(con, target, "cost_lines", "ChargePeriodStart") if target else [])
    ]
    return _replace_mart(con, "spend_daily", frames, window)


def build_usage_daily(con: duckdb.DuckDBPyConnection, window: Window | None = None) -> pl.DataFrame:
    target = _target(con, window, ("usage_events", "event_time"))
    frames = [
        _kept(usage_daily(_events_in(con, "usage_daily", part)).collect())
        for part in (day_chunks(con, target) if target else [])
    ]
    return _replace_mart(con, "usage_daily", frames, window)


def build_task_daily(con: duckdb.DuckDBPyConnection, window: Window | None = None) -> pl.DataFrame:
    """Runs per day, task and team, with the invoice-true cost allocated to them (build allocated_cost first)."""
    target = _target(con, window, ("usage_events", "event_time"), ("allocated_cost", "day"))
    frames = [
        task_daily(_events_in(con, "task_daily", _margin(part)), _rows_in(con, "allocated_cost", "day", part))
        .filter(_in_days("day", part))
        .collect()
        .pipe(_kept)
        for part in (day_chunks(con, target) if target else [])
    ]
    return _replace_mart(con, "task_daily", frames, window)


def build_task_roi(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    frame = task_roi(_table(con, "task_daily"), _table(con, "tasks")).collect()
    replace_rows(con, "task_roi", frame)
    return frame


def build_allocated_cost(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Shares the bill by usage_daily (build it first): its daily sums are all the weights allocation needs."""
    frame = allocated_cost_from(_ai_cost_lines(con), weights_from_daily(_table(con, "usage_daily"))).collect()
    replace_rows(con, "allocated_cost", frame)
    return frame


def build_reconciliation(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The invoice side whole (AI lines only), the log side summed a chunk of days at a time."""
    lines = scoped_lines(_ai_cost_lines(con)).collect().lazy()
    months = daily_months(lines).collect().lazy()
    target = span(con, "usage_events", "event_time")
    logs = [
        _kept(log_side(_events_in(con, "reconciliation", part), months).collect())
        for part in (day_chunks(con, target) if target else [])
    ]
    if logs:
        combined = combine_log_sides(pl.concat(logs).lazy())
    else:
        combined = log_side(_events_in(con, "reconciliation", (date.min, date.min)), months)
    frame = reconcile(lines, months, combined).collect()
    replace_rows(con, "reconciliation", frame)
    return frame


def build_model_whatif(con: duckdb.DuckDBPyConnection, config: AispendConfig) -> pl.DataFrame:
    """Token mix and observed runs summed a chunk of days at a time, then repriced once."""
    prices = _table(con, "prices")
    bounds = thresholds(prices)
    mixes, runs = [], []
    target = span(con, "usage_events", "event_time")
    for part in day_chunks(con, target) if target else []:
        mix, run_rows = whatif_partials(_events_in(con, "model_whatif", _margin(part)), bounds, part)
        mix, run_rows = pl.collect_all([mix, run_rows])
        mixes.append(_kept(mix))
        runs.append(_kept(run_rows))
    if not mixes:
        mix, run_rows = whatif_partials(_events_in(con, "model_whatif", (date.min, date.min)), bounds)
        mixes, runs = [mix.collect()], [run_rows.collect()]
    frame = model_whatif_from(
        pl.concat(mixes).lazy(), pl.concat(runs).lazy(), _table(con, "tasks"), prices, config.prices.discounts
    ).collect()
    replace_rows(con, "model_whatif", frame)
    return frame


def build_waste(con: duckdb.DuckDBPyConnection, config: AispendConfig) -> pl.DataFrame:
    """Per chunk of days (events read a day either side, for re-attempts after a failure across midnight)."""
    tasks, prices = _table(con, "tasks"), _table(con, "prices")
    target = _target(con, None, ("usage_events", "event_time"), ("cost_lines", "ChargePeriodStart"))
    frames = [
        waste(
            _events_in(con, "waste", _margin(part)), _ai_cost_lines(con, part), tasks, prices,
            config.prices.discounts,
        )
        .filter(_in_days("day", part))
        .collect()
        .pipe(_kept)
        for part in (day_chunks(con, target) if target else [])
    ]
    frame = _replace_mart(con, "waste", frames, None)
    return frame


def build_anomalies(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """From usage_daily (build it first): anomalies need only daily sums."""
    frame = anomalies(spend_by_day_from_daily(_table(con, "usage_daily"))).collect()
    replace_rows(con, "anomalies", frame)
    return frame


def allocated_daily(con: duckdb.DuckDBPyConnection) -> tuple[pl.LazyFrame, date | None]:
    """Daily AI cost per provider and team on the allocated basis, and the newest day it has.

    Budgets and forecasts count allocated cost: invoice-true where invoices are loaded, the logs' priced cost
    where they are not, and with teams, so one figure serves finance and team budgets alike.
    """
    frame = query(con, sql("allocated_daily"))
    newest = frame["day"].max() if frame.height else None
    return frame.lazy(), newest


def build_budget_status(con: duckdb.DuckDBPyConnection, config: AispendConfig) -> pl.DataFrame:
    daily, as_of = allocated_daily(con)
    if as_of is None or not config.budgets:
        frame = pl.DataFrame(schema=query(con, "SELECT * FROM budget_status LIMIT 0").schema)
    else:
        frame = budget_status(config.budgets, daily, as_of, cost_basis=ALLOCATED_BASIS).collect()
    replace_rows(con, "budget_status", frame)
    return frame


def build_spend_forecast(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    daily, as_of = allocated_daily(con)
    if as_of is None:
        frame = pl.DataFrame(schema=query(con, "SELECT * FROM spend_forecast LIMIT 0").schema)
    else:
        frame = forecast_month_end(daily, as_of).collect()
    replace_rows(con, "spend_forecast", frame)
    return frame


def send_due_alerts(
    con: duckdb.DuckDBPyConnection, config: AispendConfig, log: Log = _quiet, **send_options
) -> pl.DataFrame:
    """Post budget and anomaly alerts not yet sent to each configured webhook; remember what was sent.

    alerts_sent only ever grows: it is what keeps the same breach from being posted twice.
    """
    if not config.alerts:
        return pl.DataFrame()
    targets = [a.webhook_url_env for a in config.alerts]
    due = pending_alerts(
        query(con, "SELECT * FROM budget_status"), query(con, "SELECT * FROM anomalies"),
        query(con, "SELECT alert_key, target, status FROM alerts_sent"), targets=targets,
    )
    results = send_alerts(due, targets, **send_options)
    sent = alerts_sent_frame(results)
    if sent.height:
        con.register("_aispend_alerts", sent.to_arrow())
        con.execute(f"INSERT INTO alerts_sent ({', '.join(sent.columns)}) SELECT * FROM _aispend_alerts")
        con.unregister("_aispend_alerts")
    failed = sum(1 for r in results if r.status != "sent")
    log(f"alerts: {len(due)} due, {len(results) - failed} sent, {failed} failed")
    return sent


def publish(con: duckdb.DuckDBPyConnection, config: AispendConfig, *tables: str) -> None:
    """Refresh the dashboard's Parquet snapshots of these tables (and ingest_log, which every step writes); with a
    `publish` block, upload each to S3 too, so a dashboard elsewhere needs no shared volume."""
    target = config.publish
    for table in (*tables, "ingest_log"):
        path = export_snapshot(con, table, config.snapshot_path)
        if target is not None:
            from warehouse.publish_s3 import upload_snapshot

            upload_snapshot(path, target.uri, table, endpoint_url=target.endpoint_url, region=target.region)


def run_all(config: AispendConfig, log: Log = _quiet) -> list[FileResult]:
    """The whole pipeline without Dagster, in dependency order (what the Dagster job does, for tests)."""
    from warehouse.db import connect_writer

    con = connect_writer(config.warehouse_path)
    try:
        load_prices(con, config, log)
        task_result = load_tasks(con, config, log)
        results = load_cost_lines(con, config, log) + load_usage_events(con, config, log)
        build_spend_daily(con)
        build_usage_daily(con)
        build_allocated_cost(con)
        build_task_daily(con)
        build_task_roi(con)
        build_reconciliation(con)
        build_model_whatif(con, config)
        build_waste(con, config)
        build_anomalies(con)
        build_budget_status(con, config)
        build_spend_forecast(con)
        send_due_alerts(con, config, log)
        publish(con, config, *SNAPSHOT_TABLES)
        return results + ([task_result] if task_result else [])
    finally:
        con.close()
