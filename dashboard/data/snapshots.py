"""How the dashboard reads the snapshots safely while the pipeline republishes them; what it reads is elsewhere.

The dashboard never opens the warehouse file (the pipeline may be writing it): it reads the Parquet snapshots that
`warehouse.db.export_snapshot` replaces atomically, one file per table (docs/dashboard.md, "Serving and workers").
A query is a file under dashboard/sql/ that names the tables it reads (`FROM usage_daily`). `read` puts a WITH
clause in front of it that binds each name, for that one statement, to:

- the snapshot file itself, pinned open (see `_pinned`) and read with `read_parquet(?)`, so a republish mid-query
  cannot mix two versions; a column the file lacks (an older pipeline wrote it) reads as NULL, never as an error;
- or, while the snapshot is not published yet, an empty frame with the table's columns (warehouse/schema.py, read
  off the migrations). When none of a query's snapshots is published, the result is the same SQL's columns and
  types with no rows: pages say "No data yet" instead of failing, and no result's schema is written down twice.

Results are cached per process, keyed by the files' inode, size and mtime, so a republished file misses at once.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import duckdb
import polars as pl

from warehouse import schema

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
CACHE_ENTRIES = 512
_PROC_FD = Path("/proc/self/fd")

# Small frames a query joins by name (computed from the same snapshots, e.g. the provider-id map).
Frames = Callable[[], dict[str, pl.DataFrame]]


def snapshot_file(snapshot_dir: str | Path, table: str) -> Path:
    return Path(snapshot_dir) / f"{table}.parquet"


def has_snapshot(snapshot_dir: str | Path, table: str) -> bool:
    return snapshot_file(snapshot_dir, table).is_file()


@lru_cache(maxsize=None)
def sql(name: str) -> str:
    """dashboard/sql/<name>.sql, read on first use (queries live there, never in Python strings)."""
    return (SQL_DIR / f"{name}.sql").read_text()


def read(
    snapshot_dir: str | Path,
    query: str | Sequence[str],
    tables: str | Sequence[str],
    params: Sequence = (),
    frames: Frames | None = None,
) -> pl.DataFrame:
    """Run `query` over the current snapshots of `tables` (the names its SQL reads); its `?` take `params`.

    `query` is a SQL file's name, or several: each but the last is a named sub-query (WITH <file name> AS (...))
    that the later ones read, its `?` before theirs in `params`. `frames` is called only on a cache miss.
    """
    names = (query,) if isinstance(query, str) else tuple(query)
    tables = (tables,) if isinstance(tables, str) else tuple(tables)
    params = list(params)
    stamps = tuple(_stamp(snapshot_file(snapshot_dir, t)) for t in tables)
    if all(s is None for s in stamps):
        return _empty_result(names, tables, params, frames)
    hit = _lookup((names, str(snapshot_dir), stamps, tuple(params)))
    if hit is not None:
        return hit
    with _pinned([snapshot_file(snapshot_dir, t) for t in tables]) as pinned:
        stamps = tuple(stamp for _, stamp in pinned)
        if all(s is None for s in stamps):  # unpublished between the stat and the open
            return _empty_result(names, tables, params, frames)
        key = (names, str(snapshot_dir), stamps, tuple(params))
        return cached(key, lambda: _run(names, params, dict(zip(tables, pinned)), frames))


def _empty_result(names: tuple[str, ...], tables: tuple[str, ...], params: list, frames: Frames | None):
    """The query with every table empty, less the one row an aggregate over nothing still returns."""
    unpublished = {t: (None, None) for t in tables}
    return cached(("empty", names), lambda: _run(names, params, unpublished, frames).clear())


# --- the per-process result cache -----------------------------------------------------------------------
# Snapshots change only when the pipeline publishes (os.replace of a whole file), so a result is valid for as
# long as the files it read keep their inode, size and mtime. Every worker process keeps its own cache.

_cache: OrderedDict[tuple, pl.DataFrame] = OrderedDict()
_cache_lock = threading.Lock()


def _lookup(key: tuple) -> pl.DataFrame | None:
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        return hit


def cached(key: tuple, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """The result cached under `key`, or `compute()`'s, kept for the next caller (the oldest go past the limit)."""
    hit = _lookup(key)
    if hit is not None:
        return hit
    value = compute()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return value


def _stamp(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def snapshot_stamp(snapshot_dir: str | Path, tables: Sequence[str]) -> tuple | None:
    """Identity of the current snapshot files of `tables`; None when one is missing."""
    stamps = tuple(_stamp(snapshot_file(snapshot_dir, t)) for t in tables)
    return None if any(s is None for s in stamps) else stamps


# --- running a statement --------------------------------------------------------------------------------

_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """This thread's connection (a forked worker makes its own: the pid is part of the key).

    One in-memory connection per thread: opening one costs 15-20 ms, more than most queries here. It keeps no
    state between statements: a statement binds its table names in its own WITH clause, and the frames `_run`
    registers for it are unregistered after it.
    """
    con = getattr(_local, "con", None)
    if con is None or _local.pid != os.getpid():
        con = duckdb.connect(":memory:")
        con.execute("SET autoinstall_known_extensions = false")
        # Files are named /proc/self/fd/N (see _pinned) and N is reused for other files: no cache by name.
        con.execute("SET enable_external_file_cache = false")
        con.execute("SET parquet_metadata_cache = false")
        _local.con, _local.pid = con, os.getpid()
    return con


def _run(names: tuple[str, ...], params: list, tables: dict[str, tuple], frames: Frames | None) -> pl.DataFrame:
    """One statement: a WITH clause that binds each table to its pinned file or, while unpublished (path None), to
    an empty frame of its columns; then the sub-queries and the query of `names`.

    Identifiers written into the statement are the code's own table and file names; values only go through `?`.
    """
    # First: computing the frames runs queries of its own on this thread's connection.
    registered = dict(frames()) if frames else {}
    bindings, paths = [], []
    for table, (path, stamp) in tables.items():
        if path is None:
            registered[table] = schema.empty(table)
            continue
        source = "SELECT * FROM read_parquet(?)"
        missing = [c for c in schema.table_schema(table) if c not in _file_columns(path, stamp)]
        if missing:  # one row of typed NULLs beside every row of the file
            registered[f"{table}_missing_columns"] = schema.empty(table).select(missing).clear(1)
            source += f' CROSS JOIN "{table}_missing_columns"'
        bindings.append(f'"{table}" AS ({source})')
        paths.append(path)
    bindings += [f'"{name}" AS (\n{sql(name)}\n)' for name in names[:-1]]
    statement = ("WITH " + ",\n".join(bindings) + "\n" if bindings else "") + sql(names[-1])
    con = _connection()
    arrow: dict[str, object] = {}  # kept alive until the statement has run: DuckDB scans it in place
    try:
        for name, frame in registered.items():
            arrow[name] = frame.to_arrow()
            con.register(name, arrow[name])
        # execute(...).pl(), not sql(..., params=...).pl(): the latter converted a 68k-row result ~15x slower.
        return con.execute(statement, [*paths, *params]).pl()
    finally:
        for name in arrow:
            con.unregister(name)


def _file_columns(path: str, stamp: tuple) -> list[str]:
    """The columns of one published version of a snapshot file (read once per version, per process)."""
    described = cached(("columns", stamp), lambda: _connection().execute(
        "DESCRIBE SELECT * FROM read_parquet(?)", [path]).pl())
    return described["column_name"].to_list()


@contextmanager
def _pinned(files: list[Path]) -> Iterator[list[tuple[str | None, tuple | None]]]:
    """Open the snapshot files; yield for each a path that names exactly the opened file, and its stamp ((None,
    None) for a file not published).

    The pipeline replaces a snapshot (os.replace) whenever it publishes, and DuckDB opens a file more than
    once in one query (binding reads the schema, execution the row groups); reading by name could join the
    footer of one version to the data of the next, and the query fails. /proc/self/fd/N names the open
    file itself, so a query reads one version however often it reopens it. Without /proc (not Linux) the plain
    paths are used.
    """
    fds: list[int] = []
    try:
        pinned: list[tuple[str | None, tuple | None]] = []
        for path in files:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                pinned.append((None, None))
                continue
            fds.append(fd)
            st = os.fstat(fd)
            name = str(_PROC_FD / str(fd)) if _PROC_FD.is_dir() else str(path)
            pinned.append((name, (st.st_ino, st.st_size, st.st_mtime_ns)))
        yield pinned
    finally:
        for fd in fds:
            os.close(fd)


def snapshot_files(snapshot_dir: str | Path) -> pl.DataFrame:
    """When each snapshot was last published (file mtime, UTC) and its size."""
    rows = []
    for path in sorted(Path(snapshot_dir).glob("*.parquet")):
        try:
            st = path.stat()
        except OSError:
            continue
        published = datetime.fromtimestamp(st.st_mtime, timezone.utc).replace(tzinfo=None)
        rows.append({"table": path.stem, "published_at": published, "bytes": st.st_size})
    return pl.DataFrame(rows, schema={"table": pl.String, "published_at": pl.Datetime("us"), "bytes": pl.Int64})
