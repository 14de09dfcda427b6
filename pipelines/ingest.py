"""Loading sources into the warehouse: one file at a time, all or nothing, recorded in ingest_log.

A file is the unit of idempotence and of quarantine. Re-reading an unchanged file (same checksum, and for
usage the same price table) is skipped; a changed file replaces exactly the rows it wrote before; a file that
fails to read or validate is quarantined with the reader's message and the rows it loaded earlier stay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import AispendConfig, SourceConfig
from pipelines.errors import SourceError
from warehouse.db import query, replace_rows, sql

Log = Callable[[str], None]
Pricer = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class FileResult:
    source: str
    location: str
    status: str  # loaded | replaced | quarantined | unchanged
    rows: int
    error: str | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def file_checksum(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str,
    kind: str,
    location: str,
    checksum: str | None,
    status: str,
    rows: int | None = None,
    error: str | None = None,
    price_version: str | None = None,
) -> None:
    con.execute(
        sql("insert_ingest_log"),
        [source, kind, location, checksum, price_version, rows, status, error, _now()],
    )


def last_ingest(con: duckdb.DuckDBPyConnection, source: str, location: str) -> dict | None:
    rows = query(con, sql("last_ingest"), [source, location]).to_dicts()
    return rows[0] if rows else None


def _ever_loaded(con: duckdb.DuckDBPyConnection, source: str, location: str) -> bool:
    return query(con, sql("ever_loaded"), [source, location])["n"][0] > 0


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    location: str,
    reader: Callable[[str, SourceConfig], pl.DataFrame],
    *,
    pricer: Pricer | None = None,
    price_version: str | None = None,
) -> FileResult:
    try:
        checksum = file_checksum(location)
    except OSError as exc:
        reason = f"{location}: cannot read file: {exc.strerror or exc}"
        record(con, source=source.name, kind=source.kind, location=location, checksum=None,
               status="quarantined", error=reason)
        return FileResult(source.name, location, "quarantined", 0, reason)

    last = last_ingest(con, source.name, location)
    if (
        last
        and last["status"] in ("loaded", "replaced")
        and last["checksum"] == checksum
        and last["price_version"] == price_version
    ):
        return FileResult(source.name, location, "unchanged", 0)

    try:
        frame = reader(location, source)
        if pricer is not None:
            frame = pricer(frame)
    except SourceError as exc:
        record(con, source=source.name, kind=source.kind, location=location, checksum=checksum,
               status="quarantined", error=exc.message)
        return FileResult(source.name, location, "quarantined", 0, exc.message)
    except Exception as exc:  # a reader bug must not take other files down; say what and where
        reason = f"{location}: could not be read ({type(exc).__name__}: {exc})"
        record(con, source=source.name, kind=source.kind, location=location, checksum=checksum,
               status="quarantined", error=reason)
        return FileResult(source.name, location, "quarantined", 0, reason)

    status = "replaced" if _ever_loaded(con, source.name, location) else "loaded"
    replace_rows(con, source.table, frame, where={"x_source": source.name, "x_source_file": location})
    record(con, source=source.name, kind=source.kind, location=location, checksum=checksum,
           status=status, rows=frame.height, price_version=price_version)
    return FileResult(source.name, location, status, frame.height)


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    config: AispendConfig,
    source: SourceConfig,
    reader: Callable[[str, SourceConfig], pl.DataFrame],
    *,
    pricer: Pricer | None = None,
    price_version: str | None = None,
    log: Log = lambda message: None,
) -> list[FileResult]:
    """Load every file the source names; report progress every few files because a source may hold many."""
    files = config.source_files(source)
    if not files:
        reason = f"source {source.name}: no files match {config.resolve(source.path)}"
        record(con, source=source.name, kind=source.kind, location=config.resolve(source.path), checksum=None,
               status="quarantined", error=reason)
        log(reason)
        return [FileResult(source.name, config.resolve(source.path), "quarantined", 0, reason)]
    results = []
    step = max(1, len(files) // 10)
    for number, location in enumerate(files, start=1):
        result = ingest_file(con, source, location, reader, pricer=pricer, price_version=price_version)
        results.append(result)
        if result.status == "quarantined":
            log(f"QUARANTINED {result.error}")
        if number % step == 0 or number == len(files):
            log(f"{source.name}: {number}/{len(files)} files ({_summary(results)})")
    return results


def _summary(results: list[FileResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    rows = sum(r.rows for r in results)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f", {rows:,} rows"
