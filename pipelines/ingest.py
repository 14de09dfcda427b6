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
from pipelines.storage import StoredObject, storage_for
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


@dataclass(frozen=True)
class Unit:
    """One thing that is loaded or refused whole: a file, a billing period's delivery, or an API day.

    `fingerprint` identifies the content cheaply (sha256 of the bytes, S3 ETags, a manifest's checksum) so an
    unchanged unit is skipped; None means "always read". `owns` says which rows the unit replaces.
    """

    location: str
    load: Callable[[], pl.DataFrame]
    fingerprint: Callable[[], str | None]
    owns: dict[str, object]


def file_units(
    config: AispendConfig,
    source: SourceConfig,
    reader: Callable[..., pl.DataFrame],
) -> list[Unit]:
    """Every object the source's path names, local or on S3, each owning the rows it wrote."""
    target = config.resolve(source.path)
    storage = storage_for(target, source.endpoint_url, source.region)
    units = []
    for obj in storage.list(target, source.options.get("pattern")):
        fetched: dict[str, bytes] = {}

        def fetch(location: str = obj.location, cache: dict = fetched) -> bytes:
            if location not in cache:
                cache[location] = storage.read(location)
            return cache[location]

        def fingerprint(obj: StoredObject = obj, fetch=fetch) -> str:
            if obj.etag:
                return f"etag:{obj.etag}:{obj.size}"
            return hashlib.sha256(fetch()).hexdigest()

        def load(location: str = obj.location, fetch=fetch, cache: dict = fetched) -> pl.DataFrame:
            try:
                return reader(location, source, data=fetch())
            finally:
                cache.clear()  # the bytes are parsed; do not hold every file of a source in memory

        units.append(Unit(obj.location, load, fingerprint, {"x_source": source.name, "x_source_file": obj.location}))
    return units


def _quarantine(con, source: SourceConfig, location: str, checksum: str | None, reason: str) -> FileResult:
    record(con, source=source.name, kind=source.kind, location=location, checksum=checksum,
           status="quarantined", error=reason)
    return FileResult(source.name, location, "quarantined", 0, reason)


def ingest_unit(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    unit: Unit,
    *,
    pricer: Pricer | None = None,
    price_version: str | None = None,
) -> FileResult:
    try:
        checksum = unit.fingerprint()
    except SourceError as exc:
        return _quarantine(con, source, unit.location, None, exc.message)

    last = last_ingest(con, source.name, unit.location)
    if (
        checksum is not None
        and last
        and last["status"] in ("loaded", "replaced")
        and last["checksum"] == checksum
        and last["price_version"] == price_version
    ):
        return FileResult(source.name, unit.location, "unchanged", 0)

    try:
        frame = unit.load()
        if pricer is not None:
            frame = pricer(frame)
    except SourceError as exc:
        return _quarantine(con, source, unit.location, checksum, exc.message)
    except Exception as exc:  # a reader bug must not take other files down; say what and where
        return _quarantine(con, source, unit.location, checksum,
                           f"{unit.location}: could not be read ({type(exc).__name__}: {exc})")

    status = "replaced" if _ever_loaded(con, source.name, unit.location) else "loaded"
    replace_rows(con, source.table, frame, where=unit.owns)
    record(con, source=source.name, kind=source.kind, location=unit.location, checksum=checksum,
           status=status, rows=frame.height, price_version=price_version)
    return FileResult(source.name, unit.location, status, frame.height)


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    units: Callable[[], list[Unit]],
    *,
    pricer: Pricer | None = None,
    price_version: str | None = None,
    log: Log = lambda message: None,
) -> list[FileResult]:
    """Load every unit the source names; report progress every tenth, because a source may hold thousands."""
    try:
        planned = units()
    except SourceError as exc:
        log(f"QUARANTINED {exc.message}")
        return [_quarantine(con, source, exc.location, None, exc.message)]
    if not planned:
        where = source.path or source.kind
        reason = f"source {source.name}: nothing to read at {where}"
        log(f"QUARANTINED {reason}")
        return [_quarantine(con, source, where, None, reason)]
    results = []
    step = max(1, len(planned) // 10)
    for number, unit in enumerate(planned, start=1):
        result = ingest_unit(con, source, unit, pricer=pricer, price_version=price_version)
        results.append(result)
        if result.status == "quarantined":
            log(f"QUARANTINED {result.error}")
        if number % step == 0 or number == len(planned):
            log(f"{source.name}: {number}/{len(planned)} ({_summary(results)})")
    return results


def _summary(results: list[FileResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    rows = sum(r.rows for r in results)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f", {rows:,} rows"
