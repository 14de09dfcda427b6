"""Storing a warehouse's priced usage events again under DuckDB settings, beside Polars writing them as Parquet per
day in the same run: the question it answers is whether any DuckDB setting brings the table within 2x of the
Parquet floor that bench/end_to_end.py prints beside "store" (measured here the same way: bench/e2e_floors.py).

    .venv/bin/python bench/store_settings.py WAREHOUSE                       # every setting, twice, in turn
    .venv/bin/python bench/store_settings.py WAREHOUSE --only default,commits --repeat 3

WAREHOUSE is an aispend.duckdb a run wrote (bench/end_to_end.py with --keep leaves one). Its usage_events are read
once into Arrow; each setting then writes them into a new scratch DuckDB file beside it (deleted afterwards), the
CHECKPOINT included, and a group-by over the result is timed, since a setting that stores faster may read slower.
Settings run in turn (all of them, then all again), so a machine slowing down mid-run hits each alike.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from e2e_floors import store_floors
from warehouse.db import ROW_GROUP_ROWS  # the pipeline hands DuckDB batches of one row group


@dataclass(frozen=True)
class Setting:
    key: str  # what --only names it by
    name: str
    config: dict = field(default_factory=dict)  # given to duckdb.connect: settings fixed when a file is created
    statements: tuple[str, ...] = ()
    commit_rows: int | None = None  # None: one CREATE TABLE AS; else an INSERT and COMMIT per this many rows


ONE_GB = ("SET memory_limit = '1GB'",)  # the writer's cap (warehouse/db.py)
LATEST = {"storage_compatibility_version": "latest"}
SETTINGS = [
    Setting("default", "default"),
    Setting("memory", "memory_limit 1GB (the writer's)", statements=ONE_GB),
    Setting("commits", "commits of 1M rows, 1GB (the pipeline's batches)", statements=ONE_GB, commit_rows=1_000_000),
    Setting("commits-4m", "commits of 4M rows, 1GB", statements=ONE_GB, commit_rows=4_000_000),
    Setting("v1.2", "storage version v1.2.0", config={"storage_compatibility_version": "v1.2.0"}),
    Setting("latest", "storage version latest", config=LATEST),
    Setting("latest-commits", "storage version latest, commits of 1M rows, 1GB", config=LATEST, statements=ONE_GB,
            commit_rows=1_000_000),
    Setting("no-fsst", "no FSST", statements=("SET disabled_compression_methods = 'fsst'",)),
    Setting("no-fsst-rle", "no chimp, patas, RLE, FSST",
            statements=("SET disabled_compression_methods = 'chimp,patas,rle,fsst'",)),
]


def store(rows: pa.Table, setting: Setting, scratch: Path) -> tuple[float, float, int, int]:
    """Seconds to store `rows` under `setting`, seconds for a group-by over them, bytes of the file, rows stored."""
    path = scratch / "setting.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path), config=setting.config)
    con.execute("SET enable_progress_bar = false")
    for statement in setting.statements:
        con.execute(statement)
    batches = pa.Table.from_batches(rows.to_batches(max_chunksize=ROW_GROUP_ROWS), schema=rows.schema)
    started = time.perf_counter()
    if setting.commit_rows is None:
        con.execute("CREATE TABLE u AS SELECT * FROM batches")
    else:
        con.execute("CREATE TABLE u AS SELECT * FROM batches LIMIT 0")
        for start in range(0, batches.num_rows, setting.commit_rows):
            part = batches.slice(start, setting.commit_rows)  # noqa: F841 - DuckDB finds it by name
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO u SELECT * FROM part")
            con.execute("COMMIT")
    con.execute("CHECKPOINT")
    stored = time.perf_counter() - started
    started = time.perf_counter()
    con.execute("SELECT model, task, CAST(event_time AS DATE) AS day, sum(cost_usd) FROM u GROUP BY ALL").fetchall()
    grouped = time.perf_counter() - started
    (stored_rows,) = con.execute("SELECT count(*) FROM u").fetchone()
    con.close()
    size = path.stat().st_size
    path.unlink()
    return stored, grouped, size, stored_rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--only", help=f"comma-separated, among {', '.join(s.key for s in SETTINGS)}")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    by_key = {s.key: s for s in SETTINGS}
    chosen = [by_key[k.strip()] for k in args.only.split(",")] if args.only else SETTINGS
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        rows = con.execute("SELECT * FROM usage_events").to_arrow_table()
        days = [d for (d,) in con.execute("SELECT DISTINCT CAST(event_time AS DATE) FROM usage_events ORDER BY 1")
                .fetchall()]
    print(f"{rows.num_rows:,} usage events from {args.warehouse}")
    with tempfile.TemporaryDirectory(dir=args.warehouse.parent, prefix="store-settings-") as tmp:
        scratch = Path(tmp)
        results: dict[str, list[tuple[float, float, int, int]]] = {s.name: [] for s in chosen}
        floors = []
        for turn in range(args.repeat):
            floors.append(store_floors(args.warehouse, days, scratch))
            print(f"turn {turn + 1}: {floors[-1]['how']}", flush=True)
            for setting in chosen:
                results[setting.name].append(store(rows, setting, scratch))
                stored, grouped, size, count = results[setting.name][-1]
                print(f"  {setting.name:50s} {stored:6.1f} s  group-by {grouped:.2f} s  {size / 1e9:.2f} GB",
                      flush=True)
                if count != rows.num_rows:
                    print(f"{setting.name}: stored {count:,} rows of {rows.num_rows:,}: no figure for it")
                    return 1
    floor = min(f["parquet_per_day"] for f in floors)
    ctas = min(f["ctas"] for f in floors)
    print(f"\nbest of {args.repeat}, against Polars Parquet per day {floor:.1f} s (DuckDB CREATE TABLE AS of those "
          f"files {ctas:.1f} s), best of the same turns:")
    for name, runs in results.items():
        stored = min(r[0] for r in runs)
        print(f"  {name:50s} {stored:6.1f} s  {stored / floor:4.1f}x  group-by {min(r[1] for r in runs):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
