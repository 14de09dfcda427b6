"""Loading sources into the warehouse: one file at a time, all or nothing, recorded in ingest_log.

A file is the unit of idempotence and of quarantine. Re-reading an unchanged file (same checksum, and for
usage the same price table) is skipped; a changed file replaces exactly the rows it wrote before; a file that
fails to read or validate is quarantined with the reader's message and the rows it loaded earlier stay.

A unit names the day ("YYYY-MM-DD") or month ("YYYY-MM") it holds, when it names one, so a partition run
reads only the units of its window. The warehouse is opened only to read the ingest state (once per source)
and to write parsed units (a batch of up to FLUSH_ROWS rows, each unit in its own transaction): fetching and
parsing happen with no writer held, so partitions running in other processes can write in between.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import AispendConfig, SourceConfig
from pipelines.errors import SourceError
from pipelines.storage import StoredObject, TransientError, storage_for
from warehouse.db import Warehouse, as_warehouse, query, replace_rows, sql, transaction

Log = Callable[[str], None]
Pricer = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class FileResult:
    source: str
    location: str
    status: str  # loaded | replaced | quarantined | unchanged | failed (transient: retried, not quarantined)
    rows: int
    error: str | None = None
    partition: str | None = None


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
    `partition` is the day ("YYYY-MM-DD") or month ("YYYY-MM") the unit holds; None when it names no date
    (such a unit is read by every partition run; unchanged, it is skipped at the cost of a checksum).
    """

    location: str
    load: Callable[[], pl.DataFrame]
    fingerprint: Callable[[], str | None]
    owns: dict[str, object]
    partition: str | None = None


# Dates in object paths, most explicit first; within one pattern the last match (nearest the file name) wins.
_PATH_DATES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(?:BILLING_PERIOD|billing_period)=(\d{4})-(\d{2})(?!\d)"), "month"),
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"), "day"),
    (re.compile(r"(?<!\d)(\d{4})/(\d{2})/(\d{2})(?!\d)"), "day"),        # Bedrock: .../YYYY/MM/DD/HH/
    (re.compile(r"(?<!\d)(\d{4})(\d{2})\d{2}-\d{8}(?!\d)"), "month"),    # legacy CUR: yyyymmdd-yyyymmdd
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})(?![\d-])"), "month"),
]


def path_partition(location: str) -> str | None:
    """The day or month an object's path names ("2024-09-10", "2024-09"), or None when it names none.

    BILLING_PERIOD= comes first because a billing period's folder may also hold delivery dates. A match that
    is not a real date (month 13, a run of digits in an id) is ignored.
    """
    for pattern, grain in _PATH_DATES:
        for m in reversed(list(pattern.finditer(location))):
            year, month = int(m.group(1)), int(m.group(2))
            try:
                if grain == "day":
                    return date(year, month, int(m.group(3))).isoformat()
                if 1970 <= year <= 2200:
                    return date(year, month, 1).isoformat()[:7]
            except ValueError:
                continue
    return None


def partition_period(partition: str) -> tuple[date, date]:
    """The dates a partition key covers, end exclusive: a day, or a calendar month."""
    if len(partition) == 7:
        start = date.fromisoformat(partition + "-01")
        return start, (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    day = date.fromisoformat(partition)
    return day, day + timedelta(days=1)


Window = tuple[date, date]  # [start, end): the dates a partition run covers


def in_window(partition: str | None, window: Window | None) -> bool:
    """Whether a partition run over `window` reads a unit: undated units always, dated ones that overlap.

    Overlap rather than "same grain": a month unit of a daily-partitioned table (a monthly usage export) is
    read by the days of its month, and an API day of a monthly-partitioned table by its month.
    """
    if window is None or partition is None:
        return True
    start, end = partition_period(partition)
    return start < window[1] and window[0] < end


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

        owns = {"x_source": source.name, "x_source_file": obj.location}
        units.append(Unit(obj.location, load, fingerprint, owns, path_partition(_below(obj.location, target))))
    return units


def _below(location: str, target: str) -> str:
    """The part of a location below the source's own path: a date in the configured folder names no unit."""
    root = target.split("*", 1)[0].rsplit("/", 1)[0] if "*" in target else target.rstrip("/")
    if location.startswith(root) and len(location) > len(root):
        return location[len(root):]
    return location.rsplit("/", 1)[-1]


def _quarantine(db: Warehouse, source: SourceConfig, location: str, checksum: str | None, reason: str,
                partition: str | None = None) -> FileResult:
    with db.connect() as con:
        record(con, source=source.name, kind=source.kind, location=location, checksum=checksum,
               status="quarantined", error=reason)
    return FileResult(source.name, location, "quarantined", 0, reason, partition)


def ingest_state(db: Warehouse, source: SourceConfig) -> dict[str, dict]:
    """The newest ingest_log entry per location of the source, read in one short connection."""
    with db.connect() as con:
        return {r["location"]: r for r in query(con, sql("ingest_state"), [source.name]).to_dicts()}


def ingest_unit(
    db: Warehouse | duckdb.DuckDBPyConnection,
    source: SourceConfig,
    unit: Unit,
    *,
    pricer: Pricer | None = None,
    price_version: str | None = None,
    last: dict | None = None,
    batch: "_Batch | None" = None,
) -> FileResult:
    """Fingerprint, fetch and parse the unit with no connection held; then write it in one transaction."""
    db = as_warehouse(db)
    try:
        checksum = unit.fingerprint()
    except TransientError as exc:
        return FileResult(source.name, unit.location, "failed", 0, exc.message, unit.partition)
    except SourceError as exc:
        return _quarantine(db, source, unit.location, None, exc.message, unit.partition)

    if (
        checksum is not None
        and last
        and last["status"] in ("loaded", "replaced")
        and last["checksum"] == checksum
        and last["price_version"] == price_version
    ):
        return FileResult(source.name, unit.location, "unchanged", 0, partition=unit.partition)

    try:
        frame = unit.load()
        if pricer is not None:
            frame = pricer(frame)
    except TransientError as exc:
        return FileResult(source.name, unit.location, "failed", 0, exc.message, unit.partition)
    except SourceError as exc:
        return _quarantine(db, source, unit.location, checksum, exc.message, unit.partition)
    except Exception as exc:  # a reader bug must not take other files down; say what and where
        return _quarantine(db, source, unit.location, checksum,
                           f"{unit.location}: could not be read ({type(exc).__name__}: {exc})", unit.partition)

    if batch is not None:
        batch.add(unit, checksum, frame)
        return FileResult(source.name, unit.location, "pending", frame.height, partition=unit.partition)
    with db.connect() as con:
        status = _write(con, source, unit, checksum, frame, price_version)
    return FileResult(source.name, unit.location, status, frame.height, partition=unit.partition)


def _write(con, source: SourceConfig, unit: Unit, checksum: str | None, frame: pl.DataFrame,
           price_version: str | None) -> str:
    """One unit's rows and its ingest_log entry, in one transaction."""
    with transaction(con):
        status = "replaced" if _ever_loaded(con, source.name, unit.location) else "loaded"
        replace_rows(con, source.table, frame, where=unit.owns, atomic=False)
        record(con, source=source.name, kind=source.kind, location=unit.location, checksum=checksum,
               status=status, rows=frame.height, price_version=price_version)
    return status


# Parsed units wait in memory up to this many rows before one connection writes them (each in its own
# transaction): opening and closing the file per unit (a checkpoint each time) tripled the demo's load time.
FLUSH_ROWS = 200_000


class _Batch:
    def __init__(self, db: Warehouse, source: SourceConfig, price_version: str | None):
        self.db, self.source, self.price_version = db, source, price_version
        self.units: list[tuple[Unit, str | None, pl.DataFrame]] = []
        self.rows = 0

    def add(self, unit: Unit, checksum: str | None, frame: pl.DataFrame) -> None:
        self.units.append((unit, checksum, frame))
        self.rows += frame.height

    def full(self) -> bool:
        return self.rows >= FLUSH_ROWS

    def flush(self) -> dict[str, str]:
        if not self.units:
            return {}
        statuses = {}
        with self.db.connect() as con:
            for unit, checksum, frame in self.units:
                statuses[unit.location] = _write(con, self.source, unit, checksum, frame, self.price_version)
        self.units, self.rows = [], 0
        return statuses


def ingest_source(
    db: Warehouse | duckdb.DuckDBPyConnection,
    source: SourceConfig,
    units: Callable[[], list[Unit]],
    *,
    pricer: Pricer | None = None,
    price_version: str | None = None,
    log: Log = lambda message: None,
    window: Window | None = None,
) -> list[FileResult]:
    """Load every unit the source names (in `window`, when given); report progress every tenth.

    A transient failure (storage or network) is reported as `failed` and left for the retry; it stops
    neither the other units nor the other sources.
    """
    db = as_warehouse(db)
    try:
        planned = units()
    except TransientError as exc:
        log(f"FAILED (transient, will retry) {exc.message}")
        return [FileResult(source.name, exc.location, "failed", 0, exc.message)]
    except SourceError as exc:
        log(f"QUARANTINED {exc.message}")
        return [_quarantine(db, source, exc.location, None, exc.message)]
    if not planned:
        where = source.path or source.kind
        reason = f"source {source.name}: nothing to read at {where}"
        log(f"QUARANTINED {reason}")
        return [_quarantine(db, source, where, None, reason)]
    selected = [u for u in planned if in_window(u.partition, window)]
    if window is not None:
        log(f"{source.name}: {len(selected)} of {len(planned)} units in {window[0]}..{window[1] - timedelta(days=1)}")
    if not selected:
        return []
    state = ingest_state(db, source)
    batch = _Batch(db, source, price_version)
    results: list[FileResult] = []

    def flush() -> None:
        statuses = batch.flush()
        for i, r in enumerate(results):
            if r.status == "pending":
                results[i] = FileResult(r.source, r.location, statuses[r.location], r.rows, r.error, r.partition)

    step = max(1, len(selected) // 10)
    for number, unit in enumerate(selected, start=1):
        result = ingest_unit(db, source, unit, pricer=pricer, price_version=price_version,
                             last=state.get(unit.location), batch=batch)
        results.append(result)
        if result.status == "quarantined":
            log(f"QUARANTINED {result.error}")
        elif result.status == "failed":
            log(f"FAILED (transient, will retry) {result.error}")
        if batch.full() or number == len(selected):
            flush()
        if number % step == 0 or number == len(selected):
            log(f"{source.name}: {number}/{len(selected)} ({_summary(results)})")
    return results


def _summary(results: list[FileResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    rows = sum(r.rows for r in results)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f", {rows:,} rows"
