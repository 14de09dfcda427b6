"""Connections to the warehouse file, migrations, and the few write patterns the pipeline uses.

One process writes (the pipeline); the dashboard never opens the DuckDB file at all, it reads Parquet
snapshots that the writer publishes atomically after each table changes (rule 5 in docs/architecture.md).

A DuckDB file has one writer process at a time, and two partitions of an asset may run in two processes at
once. So the pipeline holds the writer only while it writes (`Warehouse.connect()` around each unit's write),
and `connect_writer` waits, with backoff and a bound, while another process holds the file.
"""

from __future__ import annotations

import filecmp
import os
import random
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from warehouse.schema import table_schema

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQL_DIR = Path(__file__).parent / "sql"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Tables the dashboard reads; each is published as <snapshot_dir>/<table>.parquet.
SNAPSHOT_TABLES = (
    "spend_daily",
    "usage_daily",
    "task_daily",
    "task_roi",
    "tasks",
    "ingest_log",
    "prices",
    "allocated_cost",
    "reconciliation",
    "model_whatif",
    "waste",
    "anomalies",
    "budget_status",
    "spend_forecast",
    # people, seats and their bill
    "person_monthly",
    "idle_seats",
    # the end of every run (pipelines/checks.py)
    "check_results",
    # finance (docs/finance.md)
    "fx_latest",
    "closed_months",
    "changes_after_close",
    "chargeback",
    "month_to_date",
)
# Measured time saved (docs/evidence.md): the Evidence page's tables.
SNAPSHOT_TABLES += ("work_item_links", "evidence_items", "task_evidence", "task_evidence_weekly")


def sql(name: str, **identifiers: str | Sequence[str]) -> str:
    """Read one of the SQL files under warehouse/sql/ (queries live there, not in Python strings).

    Values are `?` parameters; only identifiers are filled in here: `{table}`, `{column}`, `{columns}` in the
    file become quoted names from our own code (a list becomes a comma-separated list), checked by `_ident`.
    """
    text = (SQL_DIR / f"{name}.sql").read_text()
    for key, value in identifiers.items():
        names = [value] if isinstance(value, str) else list(value)
        text = text.replace("{" + key + "}", ", ".join(_ident(n) for n in names))
    return text


def _ident(name: str) -> str:
    """Quote a table or column name that comes from our own code, refusing anything unexpected."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a valid identifier: {name!r}")
    return f'"{name}"'


def migrations() -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = _MIGRATION_NAME.match(path.name)
        if not m:
            raise RuntimeError(f"migration file name must look like 0001_name.sql: {path.name}")
        found.append((int(m.group(1)), path.stem, path))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply, in order, every migration not yet recorded in schema_migrations; return the names applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, path in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text())
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [version, name, datetime.now(timezone.utc).replace(tzinfo=None)],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


def _configure(con: duckdb.DuckDBPyConnection) -> None:
    # Nothing may be downloaded at run time: never let DuckDB fetch an extension on its own.
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = true")
    con.execute("SET TimeZone = 'UTC'")


DEFAULT_WAIT_S = 600.0

# DuckDB's share of memory when the pipeline writes: mostly its cache of the table's blocks, which grows as mart
# builds read chunk after chunk and is never handed back below the cap (DuckDB's default is 80% of RAM), while
# the Polars side of the same build needs the rest. Measured at 100M events: 3.8 GB of cache uncapped; at a 2GB
# cap `waste`'s first build peaked at 4.3 GB, at 1GB at 3.35 GB in the same time, and a daily run took as long
# (bench/README.md). Operators that need more spill to `<warehouse>.tmp`.
DEFAULT_MEMORY_LIMIT = "1GB"
MEMORY_LIMIT_ENV = "AISPEND_DUCKDB_MEMORY_LIMIT"


def memory_limit() -> str:
    """The writer's DuckDB memory_limit: AISPEND_DUCKDB_MEMORY_LIMIT (e.g. `4GB`, `512MB`), else 1GB."""
    value = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT).strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, flags=re.IGNORECASE):
        raise ValueError(f"{MEMORY_LIMIT_ENV}={value!r}: give a size such as 2GB or 512MB")
    return value


class WarehouseBusy(RuntimeError):
    """Another process held the warehouse file for longer than we were willing to wait."""


def _is_lock_conflict(exc: Exception) -> bool:
    # DuckDB: 'IO Error: Could not set lock on file "...": Conflicting lock is held in ... (PID n)'
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def connect_writer(
    path: str | Path,
    wait_s: float = DEFAULT_WAIT_S,
    *,
    sleep=time.sleep,
    clock=time.monotonic,
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file for writing and bring its schema up to date.

    While another process holds the file (a parallel partition writing its rows), retry with exponential
    backoff and jitter for up to `wait_s` seconds, then raise WarehouseBusy naming the file and the holder.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = clock() + wait_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise
            left = deadline - clock()
            if left <= 0:
                raise WarehouseBusy(
                    f"{path}: another process kept the warehouse locked for more than {wait_s:.0f} s "
                    f"({exc}); is a pipeline run or a `duckdb` shell holding it open?"
                ) from exc
            sleep(min(left, delay * random.uniform(0.5, 1.5)))
            delay = min(delay * 2, 2.0)
    try:
        _configure(con)
        con.execute(f"SET memory_limit = '{memory_limit()}'")  # validated above: digits and a unit only
        migrate(con)
    except Exception:
        con.close()
        raise
    return con


class Warehouse:
    """Where the pipeline writes: a file opened only for each short write, or a connection a caller holds.

    Steps take one of these so that a Dagster asset can release the file between units (parallel partitions
    in other processes get their turn), while tests and scripts can keep passing one open connection.
    """

    def __init__(self, path: str | Path | None = None, *, con: duckdb.DuckDBPyConnection | None = None,
                 wait_s: float = DEFAULT_WAIT_S):
        if (path is None) == (con is None):
            raise ValueError("give a warehouse path or an open connection, not both")
        self.path = Path(path) if path is not None else None
        self.con = con
        self.wait_s = wait_s

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.con is not None:
            yield self.con
            return
        con = connect_writer(self.path, self.wait_s)
        try:
            yield con
        finally:
            con.close()


def as_warehouse(target: "Warehouse | duckdb.DuckDBPyConnection | str | Path") -> Warehouse:
    if isinstance(target, Warehouse):
        return target
    if isinstance(target, duckdb.DuckDBPyConnection):
        return Warehouse(con=target)
    return Warehouse(target)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One all-or-nothing write: a unit's rows and its ingest_log entry commit together or not at all."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def connect_reader(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only (for people and checks; fails while a writer holds the file)."""
    con = duckdb.connect(str(path), read_only=True)
    _configure(con)
    return con


def query(con: duckdb.DuckDBPyConnection, statement: str, params: Sequence | None = None) -> pl.DataFrame:
    """Run a parameterized query and return Polars.

    `execute(...).pl()`, not `sql(..., params=...).pl()`: on DuckDB 1.5 the latter converted a 3M-row chunk of
    usage_events in 14 s instead of 0.3 s (bench/scale.py). DuckDB 2.0 drops `execute(...).pl()`; moving to it
    means `sql(...)` here and measuring again.
    """
    if not params:
        return con.sql(statement).pl()
    return con.execute(statement, list(params)).pl()


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    where: Mapping[str, object] | None = None,
    *,
    between: tuple[str, object, object] | None = None,
    atomic: bool = True,
) -> int:
    """Delete the rows matching `where` (all rows when None) and insert `frame`, in one transaction.

    This is how every load stays idempotent: a re-run of the same file, page or partition replaces
    exactly what it wrote before. Columns are matched by name; missing ones become NULL.
    `between=(column, start, end)` narrows the delete to start <= column < end (a partition's window).
    `atomic=False` when the caller already opened a transaction (see `transaction`).
    """
    cols = [c for c in con.execute(f"SELECT * FROM {_ident(table)} LIMIT 0").pl().columns]
    extra = [c for c in frame.columns if c not in cols]
    if extra:
        raise ValueError(f"{table}: frame has columns the table lacks: {extra}")
    if atomic:
        with transaction(con):
            return _replace(con, table, frame, where, between)
    return _replace(con, table, frame, where, between)


def _replace(con, table, frame, where, between) -> int:
    clauses = [f"{_ident(k)} IS NOT DISTINCT FROM ?" for k in (where or {})]
    params = list((where or {}).values())
    if between:
        column, start, end = between
        clauses.append(f"{_ident(column)} >= ? AND {_ident(column)} < ?")
        params += [start, end]
    if clauses:
        con.execute(f"DELETE FROM {_ident(table)} WHERE {' AND '.join(clauses)}", params)
    else:
        con.execute(f"DELETE FROM {_ident(table)}")
    return insert_rows(con, table, frame)


# DuckDB's rows per row group (its default, which the warehouse keeps): `insert_rows` cuts its batches on it.
ROW_GROUP_ROWS = 122_880

# Below this many rows a chunk on average, a frame is copied into one chunk before it is worked on (`compacted`).
SMALL_CHUNK_ROWS = 50_000


def compacted(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` in one chunk when it is in many small ones (a batch of many small units: a Bedrock file is a few
    hundred rows), else as it is. Both DuckDB and Polars pay per chunk: 1M rows in 2,084 chunks were inserted in
    3.9-4.1 s so and in 2.3 s made one chunk, and normalized and priced in 0.99 s against 0.17 s, the copy
    included; in chunks of 10,000 rows still 0.37 s against 0.21 s, in chunks of 50,000 the same (bench/README.md).
    """
    if frame.n_chunks() > 1 and frame.height < SMALL_CHUNK_ROWS * frame.n_chunks():
        return frame.rechunk()
    return frame


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Insert a frame's rows (columns matched by name; missing ones NULL or their default), deleting nothing:
    rows the caller knows are new (units never loaded, pipelines/ingest.py) or a table that only grows
    (alerts_sent, close_log).

    DuckDB takes each Arrow record batch as one piece of work, so the rows go in as one chunk cut into batches of
    exactly one of its row groups (`ROW_GROUP_ROWS`): 1M priced events went in in 0.91-0.97 s so, on both cores,
    against 1.7-1.95 s as one batch or in batches of 83,000 rows (a day file's) or 100,000, and 1.2-1.7 s in
    batches of half a row group; a frame in 83,000-row chunks, the copy into one chunk included, in 0.95-1.06 s
    (bench/README.md, "After: inserts cut on row groups; bookkeeping rows in one INSERT").
    """
    if frame.height:
        rows = frame.rechunk().to_arrow()
        batches = pa.Table.from_batches(rows.to_batches(max_chunksize=ROW_GROUP_ROWS), schema=rows.schema)
        con.register("_aispend_incoming", batches)
        names = ", ".join(_ident(c) for c in frame.columns)
        con.execute(f"INSERT INTO {_ident(table)} ({names}) SELECT {names} FROM _aispend_incoming")
        con.unregister("_aispend_incoming")
    return frame.height


def insert_records(con: duckdb.DuckDBPyConnection, table: str, records: list[dict]) -> int:
    """Rows given as dicts by column name (bookkeeping: ingest_log, changed_days), typed by the table's schema, in
    one INSERT. DuckDB's `executemany` runs its statement once a row: 2.1 s for the 2,880 ingest_log rows of the
    10M benchmark's hourly Bedrock files, against 0.01 s as one frame (bench/README.md, "After: inserts cut on
    row groups; bookkeeping rows in one INSERT")."""
    if not records:
        return 0
    schema = table_schema(table)
    return insert_rows(con, table, pl.DataFrame(records, schema={name: schema[name] for name in records[0]}))


def replace_unit_rows(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, where: Mapping[str, object], time_column: str,
) -> tuple[date | None, date | None]:
    """Like `replace_rows` inside the caller's transaction, and say which days the deleted rows sat on
    (first, last; None when none was deleted): a load records them so the marts over them are rebuilt.

    A unit never loaded needs no DELETE (`insert_rows`): the DELETE scans what the table holds of the source,
    about 40% of writing a small unit at 10M events (bench/README.md, "End to end").
    """
    clauses = " AND ".join(f"{_ident(k)} IS NOT DISTINCT FROM ?" for k in where)
    days = con.execute(
        f"DELETE FROM {_ident(table)} WHERE {clauses} RETURNING CAST({_ident(time_column)} AS DATE)",
        list(where.values()),
    ).fetchall()
    insert_rows(con, table, frame)
    if not days:
        return None, None
    found = [d for (d,) in days if d is not None]
    return (min(found), max(found)) if found else (None, None)


def count_rows(con: duckdb.DuckDBPyConnection, table: str, where: Mapping[str, object]) -> int:
    """How many rows of `table` match `where` (a unit's `owns`)."""
    clauses = " AND ".join(f"{_ident(k)} IS NOT DISTINCT FROM ?" for k in where)
    return con.execute(f"SELECT count(*) FROM {_ident(table)} WHERE {clauses}", list(where.values())).fetchone()[0]


def rekey_rows(con: duckdb.DuckDBPyConnection, table: str, source: str, old: str, new: str) -> None:
    """A moved file's rows take its new key (its location relative to the source's path)."""
    con.execute(f"UPDATE {_ident(table)} SET x_source_file = ? WHERE x_source = ? AND x_source_file = ?",
                [new, source, old])


def export_snapshot(con: duckdb.DuckDBPyConnection, table: str, snapshot_dir: str | Path) -> Path:
    """Publish a table as Parquet atomically: readers see the old file or the new one, never half of one."""
    snapshot_dir = Path(snapshot_dir)
    snapshot_dir.mkdir(parents=True, exist_ok=True)
    target = snapshot_dir / f"{table}.parquet"
    fd, tmp = tempfile.mkstemp(prefix=f".{table}.", suffix=".parquet.tmp", dir=snapshot_dir)
    os.close(fd)
    try:
        # COPY cannot take a prepared parameter for its target; the path is ours (mkstemp), not user input.
        escaped = tmp.replace("'", "''")
        con.execute(f"COPY (SELECT * FROM {_ident(table)}) TO '{escaped}' (FORMAT parquet)")
        if not (target.exists() and filecmp.cmp(tmp, target, shallow=False)):  # unchanged: keep its time
            os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def export_snapshots(con: duckdb.DuckDBPyConnection, snapshot_dir: str | Path, tables: Sequence[str] = SNAPSHOT_TABLES) -> None:
    for table in tables:
        export_snapshot(con, table, snapshot_dir)
