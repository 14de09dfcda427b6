"""Reading the warehouse for mart builds: windows of days, whole small tables, and chunks of whole days.

No build holds all events: marts over events read a chunk of whole days at a time (`day_chunks`) and add the
chunks' per-day sums up, so memory follows the chunk, not the history (docs/architecture.md, "Marts";
bench/scale.py measures it). Each read names the columns it needs: the widest columns of a table are left in
DuckDB unless a mart reads them. Queries are the SQL files under warehouse/sql/, values as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines.sources.units import Window
from warehouse.db import query, sql
from warehouse.schema import table_schema

# Columns no mart reads: leaving them in DuckDB keeps the frames a mart rebuild pulls into memory smaller
# (cost_lines' Tags alone is often the widest column of a bill).
UNREAD_COLUMNS = {
    "usage_events": {"user_id", "project", "latency_ms", "price_source", "x_source_file"},
    "cost_lines": {"Tags", "ChargeDescription", "BillingAccountName", "SubAccountName", "InvoiceIssuerName",
                   "InvoiceId", "RegionName", "AvailabilityZone", "ResourceName", "SkuPriceId", "x_source_file"},
}
ALL_DAYS: Window = (date(1, 1, 1), date(9999, 12, 31))

# Marts built from events read them a chunk of whole days at a time, adding days to a chunk until it holds
# MAX_CHUNK_EVENTS: a rebuild holds about two chunks whatever the history or the daily volume (a day with
# more is a chunk of its own). A first run and a range backfill are chunked the same way. A build reads the next
# chunk while it computes this one (pipelines/marts.py), so two are held: 1M each holds no more than one chunk of
# 2M read in turn did (at 833k events a day every mart by day peaked lower; the heaviest, waste, 1.78 GiB against
# 1.80), and reading ahead takes 10-20% less time (bench/README.md).
MAX_CHUNK_EVENTS = 1_000_000

# A run counts on the day of its first request; a chunk reads the events of its own runs this much either side
# (`runs_in`) so that a run crossing midnight is whole and counted once, on its first day. A run with gaps longer
# than this is cut at the margin.
RUN_MARGIN = timedelta(days=1)


def read_columns(table: str) -> list[str]:
    """The columns of `table` that marts read (all but UNREAD_COLUMNS)."""
    skip = UNREAD_COLUMNS.get(table, set())
    return [c for c in table_schema(table) if c not in skip]


def rows_in(con: duckdb.DuckDBPyConnection, table: str, column: str, window: Window,
            columns: Sequence[str] | None = None) -> pl.LazyFrame:
    """Rows of `table` whose `column` falls in the window of days."""
    statement = sql("read_window", table=table, column=column, columns=list(columns or read_columns(table)))
    return query(con, statement, list(window)).lazy()


def whole(con: duckdb.DuckDBPyConnection, table: str) -> pl.LazyFrame:
    """A whole (small) table: a catalog, a price table, a daily rollup."""
    return query(con, sql("read_all", table=table, columns=read_columns(table))).lazy()


def ai_cost_lines(con: duckdb.DuckDBPyConnection, window: Window | None = None, also: Sequence[str] = ()
                  ) -> pl.LazyFrame:
    """The AI lines of the bill (every line the usage-facing marts look at), optionally charged in a window;
    `also` names unread columns to read too (closing a month keeps each line's file)."""
    statement = sql("read_ai_lines", columns=[*read_columns("cost_lines"), *also])
    return query(con, statement, [window is None, *(window or ALL_DAYS)]).lazy()


def fx_table(con: duckdb.DuckDBPyConnection) -> pl.LazyFrame:
    """The exchange rates by published day (pipelines/fx.py): what every conversion joins against."""
    return query(con, sql("read_all", table="fx_rates", columns=["currency", "day", "rate"])).lazy()


def span(con: duckdb.DuckDBPyConnection, table: str, column: str) -> Window | None:
    """The days a table's rows sit on, [first, last + 1)."""
    lo, hi = con.execute(sql("day_span", table=table, column=column)).fetchone()
    return (lo, hi + timedelta(days=1)) if lo is not None else None


def hull(*windows: Window | None) -> Window | None:
    """The smallest window covering all of these."""
    found = [w for w in windows if w is not None]
    return (min(w[0] for w in found), max(w[1] for w in found)) if found else None


def runs_in(con: duckdb.DuckDBPyConnection, window: Window, columns: Sequence[str]) -> pl.LazyFrame:
    """Usage events in the window, and those of the same runs within RUN_MARGIN either side: what a chunk of a
    mart that counts runs reads to see each of its runs whole.

    Only the margin events of the chunk's own runs are read (a semi-join in DuckDB): reading whole margin days
    made a chunk of up to 3M events at 833k a day hold about 4.2M, and its build peak past 4 GB at 100M events
    (bench/README.md). Rows dated outside the window belong to runs the window holds, so a transform's rows for
    the window's days are the same as over the whole margin days.
    """
    start, end = window
    bounds = [start, end, start - RUN_MARGIN, start, end, end + RUN_MARGIN, start, end]
    return query(con, sql("read_run_window", columns=list(columns)), bounds).lazy()


def retries_in(con: duckdb.DuckDBPyConnection, window: Window, columns: Sequence[str]) -> pl.LazyFrame:
    """Usage events in the window, and from the RUN_MARGIN before it only those of runs (task, run_id) that
    failed there: what a chunk of a mart that counts re-attempts reads (warehouse/sql/read_retry_window.sql).

    For the window's days it counts what `runs_in` would: a re-attempt is counted on its own day and follows
    what it re-attempts, so the day after adds nothing and the day before only failures and what followed them.
    It reads the run ids of one margin day for a few failed runs, where `runs_in` matches two days of events
    against every run of the chunk; rows it gives for the margin day are not a count of that day.
    """
    start, end = window
    return query(con, sql("read_retry_window", columns=list(columns)),
                 [start, end, start - RUN_MARGIN, start, start - RUN_MARGIN, start]).lazy()


def day_chunks(
    con: duckdb.DuckDBPyConnection, window: Window, table: str = "usage_events", column: str = "event_time",
    max_rows: int | None = None,
) -> list[Window]:
    """Contiguous chunks of whole days covering `window`, each holding at most `max_rows` of `table` (or one day).

    Only the per-day row counts are read (one scan of the time column).
    """
    limit = max_rows or MAX_CHUNK_EVENTS
    counts = dict(con.execute(sql("day_counts", table=table, column=column), list(window)).fetchall())
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


def kept(frame: pl.DataFrame) -> pl.DataFrame:
    """A chunk's small result, copied out of the chunk's memory before the next chunk is read.

    Polars strings are views into the buffers they were cut from, so a few thousand group keys kept from a chunk
    pin the whole chunk of events: at 100M events, reconciliation's 40 kept partials held 11.5 GB
    (bench/README.md). A round trip through Arrow's plain strings copies just the rows kept.
    """
    return pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))


def in_days(column: str, window: Window) -> pl.Expr:
    return (pl.col(column) >= window[0]) & (pl.col(column) < window[1])
