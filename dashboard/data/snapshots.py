"""How the dashboard reads the snapshots safely while the pipeline republishes them; what it reads is elsewhere.

The dashboard never opens the warehouse file (the pipeline may be writing it): it reads the Parquet snapshots that
`warehouse.db.export_snapshot` replaces atomically, one file per table (docs/dashboard.md, "Serving and workers").
A query is a file under dashboard/sql/ that names the tables it reads (`FROM usage_daily`); `read` binds each
name, for the length of one statement, to:

- the snapshot file itself, pinned open (see `_pinned`), so a republish mid-query cannot mix two versions;
- or, while a snapshot is not published yet, an empty frame with the table's columns (warehouse/schema.py, read
  off the migrations): the same SQL then gives the result's columns and types with no rows, so pages say
  "No data yet" instead of failing, and no result's schema is written down twice.

A snapshot from an older pipeline that lacks a newer column reads it as NULL (unknown), never as an error.
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
    """Run the query over the current snapshots of `tables`, the names its SQL reads; `?` takes `params`.

    `query` is one SQL file's name, or several run as one statement (a shared WITH clause first). When a
    snapshot is missing the result has the query's columns and no rows. `frames` is called only on a cache miss.
    """
    names = (query,) if isinstance(query, str) else tuple(query)
    tables = (tables,) if isinstance(tables, str) else tuple(tables)
    params = list(params)
    stamp = snapshot_stamp(snapshot_dir, tables)
    if stamp is None:
        return _empty_result(names, tables, params, frames)
    hit = _lookup((names, str(snapshot_dir), stamp, tuple(params)))
    if hit is not None:
        return hit
    with _pinned([snapshot_file(snapshot_dir, t) for t in tables]) as (paths, pinned_stamp):
        if pinned_stamp is None:  # unpublished between the stat and the open
            return _empty_result(names, tables, params, frames)
        key = (names, str(snapshot_dir), pinned_stamp, tuple(params))
        return cached(key, lambda: _run(names, params, dict(zip(tables, paths)), frames))


def _empty_result(names: tuple[str, ...], tables: tuple[str, ...], params: list, frames: Frames | None):
    """The query over empty tables of the migrations' schema, with no rows (an aggregate over nothing has one)."""
    empty = {t: schema.empty(t) for t in tables}
    return cached(("empty", names), lambda: _run(names, params, empty, frames).clear())


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
    views or tables between statements; `_run` binds the table names and drops them again.
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


def _run(names: tuple[str, ...], params: list, tables: dict[str, str | pl.DataFrame], frames: Frames | None):
    """Bind each table name to its file (a path) or to a frame, add `frames`, run the statement, unbind."""
    # First: computing the frames runs queries of its own on this thread's connection, which bind and unbind names.
    extra = frames() if frames else {}
    con = _connection()
    statement = "\n".join(sql(name) for name in names)
    bound: dict[str, object] = {}  # also keeps the Arrow data DuckDB scans alive until the statement has run
    try:
        for table, source in tables.items():
            bound[table] = _parquet(con, table, source) if isinstance(source, str) else source.to_arrow()
            con.register(table, bound[table])
        for name, frame in extra.items():
            bound[name] = frame.to_arrow()
            con.register(name, bound[name])
        # execute(...).pl(), not sql(..., params=...).pl(): the latter converted a 68k-row result ~15x slower.
        return con.execute(statement, params).pl()
    finally:
        for name in bound:
            con.unregister(name)


def _parquet(con: duckdb.DuckDBPyConnection, table: str, path: str) -> duckdb.DuckDBPyRelation:
    """The snapshot file as the table, with any column the file lacks (an older pipeline wrote it) as NULL."""
    relation = con.read_parquet(path)
    missing = [c for c in schema.table_schema(table) if c not in relation.columns]
    if not missing:
        return relation
    nulls = con.from_arrow(schema.empty(table).select(missing).clear(1).to_arrow())  # one row of typed NULLs
    return relation.cross(nulls)


@contextmanager
def _pinned(files: list[Path]) -> Iterator[tuple[list[str], tuple | None]]:
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
