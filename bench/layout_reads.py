"""What the marts would pay to read usage events from Parquet per day (docs/scaling.md, Stage 2) rather than from
the DuckDB table: the other half of the store's choice, since bench/store_settings.py and bench/end_to_end.py
measure only the writing.

    .venv/bin/python bench/layout_reads.py WAREHOUSE                # every mart's reads, twice, in turn
    .venv/bin/python bench/layout_reads.py WAREHOUSE --repeat 3

WAREHOUSE is an aispend.duckdb a run wrote (bench/end_to_end.py with --keep leaves one). Its usage_events are
written by Polars as one Parquet file per day into a scratch folder beside it (as bench/e2e_floors.py writes the
store's floor; deleted afterwards), and a view over those files stands where the table stood. Then, for each mart
that reads events (pipelines/marts.py EVENT_COLUMNS), every chunk of days a full rebuild reads
(pipelines/reads.py day_chunks) is read with warehouse/sql/read_window.sql into Polars, once from the table and
once from the view, in turn. Each read's rows and cost are summed: a layout that gives other rows gets no figure
(exit 1).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from e2e_floors import parquet_per_day
from pipelines.marts import EVENT_COLUMNS
from pipelines.reads import day_chunks
from warehouse.db import query, sql

VIEW = "usage_events_parquet"
SPAN = "SELECT min(event_time)::DATE, max(event_time)::DATE, count(*) FROM usage_events"
DAYS = "SELECT DISTINCT CAST(event_time AS DATE) FROM usage_events ORDER BY 1"


def read_chunks(con: duckdb.DuckDBPyConnection, table: str, columns: list[str],
                chunks: list[tuple[date, date]]) -> tuple[float, int, float]:
    """Seconds to read every chunk of `table` into Polars, and the rows and cost read (what the layouts must agree
    on)."""
    statement = sql("read_window", columns=columns, table=table, column="event_time")
    seconds, rows, cost = 0.0, 0, 0.0
    for chunk in chunks:
        started = time.perf_counter()
        frame = query(con, statement, list(chunk))
        seconds += time.perf_counter() - started
        rows += frame.height
        cost += frame.select(pl.col("cost_usd").sum()).item() or 0.0
    return seconds, rows, cost


def _same(table: list, view: list) -> bool:
    """The same rows, and the same cost but for the order it was summed in."""
    return table[0] == view[0] and abs(table[1] - view[1]) <= 1e-9 * max(1.0, abs(table[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(dir=args.warehouse.parent, prefix="layout-reads-"))
    try:
        with duckdb.connect(str(args.warehouse), read_only=True) as con:
            first, last, events = con.execute(SPAN).fetchone()
            if not events:
                print(f"{args.warehouse} holds no usage events: nothing to read")
                return 1
            days = [d for (d,) in con.execute(DAYS).fetchall()]
            written, _ = parquet_per_day(con, days, folder)
            files = str(folder / "*.parquet").replace("'", "''")  # a view takes no parameters; our own folder
            con.execute(f"CREATE TEMP VIEW {VIEW} AS SELECT * FROM read_parquet('{files}')")
            chunks = day_chunks(con, (first, last + timedelta(days=1)))
            print(f"{events:,} usage events from {args.warehouse}, {len(chunks)} chunks a full rebuild reads; "
                  f"Polars wrote them as Parquet per day in {written:.1f} s", flush=True)
            best: dict[tuple[str, str], float] = {}
            for turn in range(args.repeat):
                print(f"turn {turn + 1}:", flush=True)
                for mart, columns in EVENT_COLUMNS.items():
                    read = {table: read_chunks(con, table, columns, chunks) for table in ("usage_events", VIEW)}
                    (table_s, *table_sums), (view_s, *view_sums) = read["usage_events"], read[VIEW]
                    print(f"  {mart:28s} table {table_s:6.2f} s  Parquet per day {view_s:6.2f} s", flush=True)
                    if not _same(table_sums, view_sums):
                        print(f"{mart}: the table read {table_sums}, Parquet per day {view_sums} (rows, cost): "
                              "no figure for it")
                        return 1
                    for key, seconds in (((mart, "table"), table_s), ((mart, "parquet"), view_s)):
                        best[key] = min(best.get(key, seconds), seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nbest of {args.repeat}, every chunk of a full rebuild:")
    totals = {"table": 0.0, "parquet": 0.0}
    for mart in EVENT_COLUMNS:
        table_s, view_s = best[(mart, "table")], best[(mart, "parquet")]
        totals["table"] += table_s
        totals["parquet"] += view_s
        print(f"  {mart:28s} table {table_s:6.2f} s  Parquet per day {view_s:6.2f} s  {view_s / table_s:4.2f}x")
    more = totals["parquet"] - totals["table"]
    print(f"  {'every mart':28s} table {totals['table']:6.2f} s  Parquet per day {totals['parquet']:6.2f} s  "
          f"{totals['parquet'] / totals['table']:4.2f}x: the marts would read {more:+.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
