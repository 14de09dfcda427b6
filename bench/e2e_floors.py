"""The floors bench/end_to_end.py sets beside each stage, measured on the same files in the same run, and the check
that the warehouse holds exactly what the files hold.

- Reading: DuckDB reads each source's files into a table with the columns of the table the source feeds
  (`read_json` + unnest for OTel and Bedrock, `read_csv` for LiteLLM and FOCUS, `read_parquet` for CUR: the
  SELECTs in bench/sql/), one CREATE TABLE AS per source, committed (CHECKPOINT) like the pipeline's writes.
- Storing: the priced rows the run wrote (read back from the warehouse, not timed) written by Polars as one
  Parquet file per day (the layout of docs/scaling.md, Stage 2), and one bulk CREATE TABLE AS of those files
  in a fresh DuckDB file (committed). The faster of the two is the floor.
- Totals: per source and day, rows and every token count (usage) or rows and billed and effective cost (bills),
  summed from the reading floor's tables (plain DuckDB over the files, so the files are read once), against the
  warehouse.
Each floor writes into its own scratch file, deleted as soon as it is measured, so the 100M run keeps its disk.
"""

from __future__ import annotations

import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from e2e_bills import listed_files

SQL = Path(__file__).resolve().parent / "sql"
USAGE_SOURCES = {"otel": "otel_events", "bedrock": "bedrock_events", "litellm": "litellm_events"}
COST_SOURCES = {"cur": "cur_lines", "focus": "focus_lines"}
HOW = {"otel": "DuckDB read_json + unnest", "bedrock": "DuckDB read_json + unnest", "litellm": "DuckDB read_csv",
       "cur": "DuckDB read_parquet", "focus": "DuckDB read_csv"}
MEMORY_LIMIT = "4GB"  # the 100M run's floors stay well inside the machine's 24 GB beside the files' page cache

USAGE_TOTALS = """
SELECT x_source, CAST(event_time AS DATE) AS day, count(*) AS rows, sum(request_count) AS requests,
       sum(input_tokens) AS input, sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write,
       sum(output_tokens) AS output, sum(reasoning_tokens) AS reasoning, count(*) FILTER (status = 'error') AS errors
FROM {rows} GROUP BY ALL
"""
COST_TOTALS = """
SELECT x_source, CAST(ChargePeriodStart AS DATE) AS day, count(*) AS rows, sum(BilledCost) AS billed,
       sum(EffectiveCost) AS effective
FROM {rows} GROUP BY ALL
"""


def select(source: str) -> str:
    return (SQL / f"{(USAGE_SOURCES | COST_SOURCES)[source]}.sql").read_text()


def source_files(root: Path) -> dict[str, list[str]]:
    """Every file each source reads now (CUR: the files the newest manifest of each month lists)."""
    def found(pattern: str) -> list[str]:
        return sorted(str(p) for p in root.glob(pattern))

    return {"otel": found("otel/*.jsonl.gz"), "bedrock": found("bedrock/AWSLogs/**/*.json.gz"),
            "litellm": found("litellm/*.csv"), "cur": [str(p) for p in listed_files(root)],
            "focus": found("focus/*.csv")}


def day_files(root: Path, day: date) -> dict[str, list[str]]:
    """The usage files of one day."""
    return {"otel": [str(root / "otel" / f"{day.isoformat()}.jsonl.gz")],
            "bedrock": sorted(str(p) for p in root.glob(f"bedrock/AWSLogs/**/{day:%Y/%m/%d}/*/*.json.gz")),
            "litellm": [str(root / "litellm" / f"spend_logs_{day.isoformat()}.csv")]}


def _scratch_db(scratch: Path, name: str) -> duckdb.DuckDBPyConnection:
    path = scratch / f"{name}.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("SET enable_progress_bar = false")
    return con


def _drop_db(con: duckdb.DuckDBPyConnection, scratch: Path, name: str) -> None:
    con.close()
    for leftover in scratch.glob(f"{name}.duckdb*"):
        leftover.unlink()


def read_floors(files: dict[str, list[str]], scratch: Path) -> tuple[dict[str, dict], dict[tuple, tuple]]:
    """Seconds and rows for DuckDB to read each source's files into a table of the target table's columns; and,
    from those tables (not timed), the files' totals per source and day."""
    scratch.mkdir(parents=True, exist_ok=True)
    out, totals = {}, {}
    for source, paths in files.items():
        if not paths:
            continue
        con = _scratch_db(scratch, f"read_{source}")
        started = time.perf_counter()
        con.execute(f"CREATE TABLE t AS {select(source)}", [paths])
        con.execute("CHECKPOINT")
        seconds = time.perf_counter() - started
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
        shape = USAGE_TOTALS if source in USAGE_SOURCES else COST_TOTALS
        totals.update({row[:2]: row[2:] for row in con.execute(shape.format(rows="t")).fetchall()})
        size = _size(scratch / f"read_{source}.duckdb")
        _drop_db(con, scratch, f"read_{source}")
        out[source] = {"seconds": seconds, "rows": rows, "how": HOW[source], "files": len(paths), "bytes": size}
    return out, totals


def store_floors(warehouse: Path, days: list[date], scratch: Path) -> dict:
    """Seconds for Polars to write the days' priced rows as Parquet per day, and for one bulk CREATE TABLE AS."""
    folder = scratch / "priced"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        parquet_s, rows = parquet_per_day(con, days, folder)
    finally:
        con.close()
    con = _scratch_db(scratch, "store")
    started = time.perf_counter()
    con.execute("CREATE TABLE usage_events AS SELECT * FROM read_parquet(?)", [str(folder / "*.parquet")])
    con.execute("CHECKPOINT")
    ctas_s = time.perf_counter() - started
    size = _size(folder) + _size(scratch / "store.duckdb")
    _drop_db(con, scratch, "store")
    shutil.rmtree(folder)
    return {"rows": rows, "parquet_per_day": parquet_s, "ctas": ctas_s, "seconds": min(parquet_s, ctas_s), "bytes": size,
            "how": f"min(Polars Parquet per day {parquet_s:.1f} s, DuckDB CREATE TABLE AS {ctas_s:.1f} s)"}


def parquet_per_day(con: duckdb.DuckDBPyConnection, days: list[date], folder: Path) -> tuple[float, int]:
    """Seconds for Polars to write the days' usage_events as one Parquet file per day (the reads from the
    warehouse not timed), and the rows written."""
    seconds, rows = 0.0, 0
    for day in days:
        frame = con.execute("SELECT * FROM usage_events WHERE event_time >= ? AND event_time < ?",
                            [day, day + timedelta(days=1)]).pl()
        started = time.perf_counter()
        frame.write_parquet(folder / f"{day.isoformat()}.parquet")
        seconds += time.perf_counter() - started
        rows += frame.height
        del frame
    return seconds, rows


def _size(path: Path) -> int:
    """Bytes of a file, or of every file below a folder."""
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def warehouse_totals(warehouse: Path) -> dict[tuple, tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(USAGE_TOTALS.format(rows="usage_events")).fetchall()
        rows += con.execute(COST_TOTALS.format(rows="cost_lines")).fetchall()
    finally:
        con.close()
    return {row[:2]: row[2:] for row in rows}


def totals_differences(expected: dict[tuple, tuple], warehouse: Path) -> list[str]:
    """Where the warehouse and the files' totals disagree (none when equal; money to 1e-9 relative)."""
    held = warehouse_totals(warehouse)
    problems = []
    for key in sorted(set(expected) | set(held), key=str):
        a, b = expected.get(key), held.get(key)
        same = a is not None and b is not None and all(
            x == y if isinstance(x, int) else abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1.0) for x, y in zip(a, b))
        if not same:
            problems.append(f"{key[0]} {key[1]}: files {a}, warehouse {b}")
    return problems
