"""Loading sources into the warehouse: unit by unit, each all or nothing, recorded in ingest_log. Small files of
a kind that can are read together (`_start_group`), and units are read on worker threads ahead of the one being
written (pipelines/read_ahead.py); each is still checked, written or quarantined alone, in order, here.

A unit (pipelines/sources/units.py) is the unit of idempotence and of quarantine. Re-reading an unchanged unit
(same checksum, and for usage the same price table) is skipped (`is_current`, the one skip rule); a changed unit
replaces exactly the rows it wrote before; a unit that fails to read or validate is quarantined with the
reader's message and the rows it loaded earlier stay. A file that moved within its source (same checksum, a key
no longer listed) keeps its rows under its new key instead of loading twice; a copy (same checksum as a file the
source still lists) is refused. Before a unit is written its values are checked against its table's bounds
(pipelines/sources/bounds.py), and a unit holding rows that comes back empty is refused unless the source allows
it (docs/operations.md, "A bad file").

Every write also records, in the same transaction, the days whose rows it changed (`changed_days`: the days of
the rows it deleted and of the rows it inserted), so the marts over those days are rebuilt by the next run
whatever stopped this one (docs/operations.md, "After a crash"). Fetching and parsing happen with no writer held,
so partitions running in other processes can write in between.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import polars as pl

from pipelines import timings
from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.schemas import TIME_COLUMNS
from pipelines.read_ahead import READ_BYTES_AT_ONCE, Budget, Read, outcome, read_within
from pipelines.sources.bounds import refuse_bad_values
from pipelines.sources.units import READ_AHEAD, TOGETHER, Unit, Window, in_window
from pipelines.storage import TransientError
from warehouse.db import (
    Warehouse, as_warehouse, compacted, count_rows, insert_records, insert_rows, query, rekey_rows, replace_unit_rows, sql,
    transaction,
)

Log = Callable[[str], None]
Pricer = Callable[[pl.DataFrame], pl.DataFrame]
Scrub = Callable[[str], str]  # takes person data out of a message (pipelines/privacy.py), when that is switched on
LOADED = ("loaded", "replaced")


@dataclass(frozen=True)
class FileResult:
    source: str
    location: str
    status: str  # loaded | replaced | quarantined | unchanged | moved | failed (transient: retried, not quarantined)
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


def _log_entry(*, source: str, kind: str, location: str, checksum: str | None, status: str, rows: int | None = None,
               error: str | None = None, price_version: str | None = None, file_version: str | None = None,
               loaded_at: datetime | None = None) -> dict:
    """One ingest_log row, by column name: what `record` writes alone and a batch writes together."""
    return {"source": source, "kind": kind, "location": location, "checksum": checksum,
            "price_version": price_version, "rows": rows, "status": status, "error": error,
            "loaded_at": loaded_at or _now(), "file_version": file_version}


def record(con: duckdb.DuckDBPyConnection, **entry) -> None:
    """Log one unit's outcome (the keywords of `_log_entry`)."""
    insert_records(con, "ingest_log", [_log_entry(**entry)])


def last_ingest(con: duckdb.DuckDBPyConnection, source: str, location: str) -> dict | None:
    rows = query(con, sql("last_ingest"), [source, location]).to_dicts()
    return rows[0] if rows else None


def checksum_of(unit: Unit, last: dict | None) -> str | None:
    """The unit's fingerprint; for a local file whose size and modification time are those logged with its last
    checksum, that checksum, without reading the file (planning fingerprints every file of every source)."""
    if unit.version is not None and last is not None and last.get("checksum") \
            and last.get("file_version") == unit.version:
        return last["checksum"]
    return unit.fingerprint()


def is_current(last: dict | None, checksum: str | None, price_version: str | None) -> bool:
    """The skip-unchanged rule: the newest entry for this unit loaded exactly these bytes, priced the same way.

    A unit with no fingerprint (a recent API day) is never current; one quarantined last time never is either.
    """
    return (checksum is not None and last is not None and last["status"] in LOADED
            and last["checksum"] == checksum and last["price_version"] == price_version)


def _quarantine(db: Warehouse, source: SourceConfig, key: str, checksum: str | None, reason: str,
                partition: str | None = None, scrub: Scrub | None = None) -> FileResult:
    reason = scrub(reason) if scrub is not None else reason
    with db.connect() as con:
        record(con, source=source.name, kind=source.kind, location=key, checksum=checksum,
               status="quarantined", error=reason)
    return FileResult(source.name, key, "quarantined", 0, reason, partition)


def ingest_state(db: Warehouse, source: SourceConfig) -> dict[str, dict]:
    """The newest ingest_log entry per unit key of the source, read in one short connection."""
    with db.connect() as con:
        return {r["location"]: r for r in query(con, sql("ingest_state"), [source.name]).to_dicts()}


def moved_candidates(state: dict[str, dict], planned_keys: set[str]) -> dict[str, str]:
    """checksum -> key of units loaded before that are no longer listed: a new key with one of these checksums
    is the same file, moved (a renamed folder, a copied project, a config path that changed)."""
    out: dict[str, str] = {}
    for key, last in state.items():
        if key not in planned_keys and last["status"] in LOADED and last["checksum"]:
            out.setdefault(last["checksum"], key)
    return out


def _rekey(db: Warehouse, source: SourceConfig, old: str, new: str) -> None:
    """Give a moved file's rows and history its new key, in one transaction."""
    with db.connect() as con, transaction(con):
        rekey_rows(con, source.table, source.name, old, new)
        con.execute(sql("rekey_ingest_log"), [new, source.name, old])


@dataclass(frozen=True)
class _ToLoad:
    checksum: str | None
    never_logged: bool = False  # no ingest_log entry under this unit's key (`_refuse_empty_delivery`)


def _fingerprinted(db: Warehouse, source: SourceConfig, unit: Unit, price_version: str | None, last: dict | None,
                   moved: dict[str, str] | None, scrub: Scrub | None) -> FileResult | _ToLoad:
    """The unit's result when it need not be read (unchanged, moved, refused or unreachable while being
    fingerprinted), else its checksum, to be read."""
    try:
        checksum = checksum_of(unit, last)
    except TransientError as exc:
        return FileResult(source.name, unit.key, "failed", 0, exc.message, unit.partition)
    except SourceError as exc:
        return _quarantine(db, source, unit.key, None, exc.message, unit.partition, scrub)

    if last is None and checksum is not None and moved and checksum in moved:
        old = moved.pop(checksum)
        _rekey(db, source, old, unit.key)
        last = {**(ingest_state(db, source).get(unit.key) or {}), "location": unit.key}
        if is_current(last, checksum, price_version):
            return FileResult(source.name, unit.key, "moved", 0, f"moved from {old}", unit.partition)

    if is_current(last, checksum, price_version):
        return FileResult(source.name, unit.key, "unchanged", 0, partition=unit.partition)
    return _ToLoad(checksum, never_logged=last is None)


def _loaded(db: Warehouse, source: SourceConfig, unit: Unit, checked: _ToLoad, load: Callable[[], pl.DataFrame], *,
            batch: "_Batch", scrub: Scrub | None, copies: dict[str, str], in_bounds: bool) -> FileResult:
    """Check one unit that was read (`load` gives its frame, or raises what reading it raised) and hand it to
    `batch`, which prices and writes it; `in_bounds` when its rows were checked against the table's bounds
    already, with others read together."""
    checksum = checked.checksum
    try:
        frame = load()
        if not in_bounds:
            refuse_bad_values(frame, source.table, unit.location)
        if not frame.height:
            _refuse_empty_delivery(db, source, unit, checked.never_logged)
        elif checksum is not None:
            _refuse_copy(copies, checksum, unit)
    except TransientError as exc:
        return FileResult(source.name, unit.key, "failed", 0, exc.message, unit.partition)
    except SourceError as exc:
        return _quarantine(db, source, unit.key, checksum, exc.message, unit.partition, scrub)
    except Exception as exc:  # a reader bug must not take other files down; say what and where, on one line
        first = (str(exc).strip().splitlines() or [""])[0]
        return _quarantine(db, source, unit.key, checksum,
                           f"{unit.location}: could not be read ({type(exc).__name__}: {first})", unit.partition, scrub)

    batch.add(unit, checksum, frame)
    return FileResult(source.name, unit.key, "pending", frame.height, partition=unit.partition)


@dataclass
class _Ahead:
    """A group fingerprinted, with its read running on a worker thread."""

    units: list[Unit]
    checked: list[FileResult | _ToLoad]
    read: Future


def _start_group(db: Warehouse, source: SourceConfig, units: list[Unit], state: dict[str, dict], pool: Executor,
                 budget: Budget, *, price_version: str | None, moved: dict[str, str], scrub: Scrub | None) -> _Ahead:
    """A unit alone, or units that share `load_together` (`_groups`): each fingerprinted here, and those that
    need reading handed to `pool` to read, within `budget`."""
    checked = [_fingerprinted(db, source, u, price_version, state.get(u.key), moved, scrub) for u in units]
    wanted = [u for u, c in zip(units, checked) if isinstance(c, _ToLoad)]
    return _Ahead(units, checked, pool.submit(read_within, budget, budget.ticket(), source.table, wanted))


def _finish_group(db: Warehouse, source: SourceConfig, group: _Ahead, read: Read, *, batch: "_Batch",
                  scrub: Scrub | None, copies: dict[str, str]) -> list[FileResult]:
    """Each unit of a group read: checked and handed to `batch`, or its result (skipped, quarantined, failed)."""
    return [c if isinstance(c, FileResult) else
            _loaded(db, source, u, c, lambda v=read.outcomes[u.key]: outcome(v), batch=batch, scrub=scrub,
                    copies=copies, in_bounds=read.in_bounds)
            for u, c in zip(group.units, group.checked)]


def _groups(units: list[Unit]) -> list[list[Unit]]:
    """Runs of consecutive units that may be loaded together (at most `TOGETHER`); every other unit alone."""
    groups: list[list[Unit]] = []
    for unit in units:
        last = groups[-1] if groups else None
        if (last and unit.load_together is not None and last[0].load_together is unit.load_together
                and len(last) < TOGETHER):
            last.append(unit)
        else:
            groups.append([unit])
    return groups


def copies_of(state: dict[str, dict], planned_keys: set[str]) -> dict[str, str]:
    """checksum -> key of units loaded before that the source still lists: a second listed file with the same
    bytes is a copy (a folder copied inside the source), and loading it would count every row twice."""
    return {last["checksum"]: key for key, last in sorted(state.items())
            if key in planned_keys and last["status"] in LOADED and last["checksum"]}


def _refuse_copy(copies: dict[str, str], checksum: str, unit: Unit) -> None:
    original = copies.setdefault(checksum, unit.key)
    if original != unit.key:
        raise SourceError(unit.location, f"the same bytes as {original}, which this source also lists and has "
                          "loaded: a copy, refused so nothing is counted twice (remove one of the two)")


def _refuse_empty_delivery(db: Warehouse, source: SourceConfig, unit: Unit, never_logged: bool) -> None:
    """A unit that holds rows, delivered again with none (a header-only CUR re-delivery, a truncated export), is
    refused unless the source allows it: replacing would wipe a billing period with exit code 0.

    A unit never logged under its key, whose rows are those of its key alone (a file, an API day), holds none: its
    rows and its ingest_log entry are only ever written together. It is not asked: opening the warehouse for each
    empty file was a third of a small first run's connections."""
    if source.options.allow_empty:
        return
    if never_logged and unit.owns == {"x_source": source.name, "x_source_file": unit.key}:
        return
    with db.connect() as con:
        held = count_rows(con, source.table, unit.owns)
    if held:
        raise SourceError(unit.location, f"delivered with no rows, but the warehouse holds {held:,} rows from it: "
                          f"refused, the rows stay (set options.allow_empty: true on source {source.name} if "
                          "its deliveries may be empty)")


def _write_units(con, source: SourceConfig, units: list[tuple[Unit, str | None, pl.DataFrame]],
                 price_version: str | None) -> dict[str, str]:
    """Several units' rows, ingest_log entries and changed days, in one transaction: all of them or none.

    Each unit is still replaced exactly (a re-loaded unit deletes its own rows first); the units never loaded
    are inserted together in one statement. One transaction per unit cost a commit and an INSERT each, 90 ms a
    unit at 10M events (bench/README.md, "End to end"); a crash still leaves every unit of the batch either
    loaded and recorded or neither, so the next run loads exactly what is missing.
    """
    column = TIME_COLUMNS[source.table]
    now = _now()
    with transaction(con):
        before = set(query(con, sql("ever_loaded"), [source.name, [u.key for u, _, _ in units]])["location"])
        statuses: dict[str, str] = {}
        fresh: list[pl.DataFrame] = []
        days: list[list] = []
        log: list[list] = []
        for unit, checksum, frame in units:  # per unit (a file, a day), never per row
            held = unit.key in before or not _owns_only_its_key(source, unit)
            if held:
                old = replace_unit_rows(con, source.table, frame, unit.owns, column)
            else:
                fresh.append(frame)
                old = (None, None)
            for first, last in {old, _days(frame, column)}:
                if first is not None:
                    days.append({"table_name": source.table, "first_day": first, "last_day": last,
                                 "source": source.name, "location": unit.key, "recorded_at": now})
            statuses[unit.key] = "replaced" if unit.key in before else "loaded"
            log.append(_log_entry(source=source.name, kind=source.kind, location=unit.key, checksum=checksum,
                                  price_version=price_version, rows=frame.height, status=statuses[unit.key],
                                  loaded_at=now, file_version=unit.version))
        if fresh:
            insert_rows(con, source.table, pl.concat(fresh, how="vertical_relaxed"))
        insert_records(con, "changed_days", days)
        insert_records(con, "ingest_log", log)
    return statuses


def _owns_only_its_key(source: SourceConfig, unit: Unit) -> bool:
    """Whether the unit's rows are exactly those written under its own key (a file, an API day), so that a key
    never loaded holds no rows and its first load needs no DELETE: rows and their ingest_log entry commit
    together, and a moved file's rows take its new key together with its history (`_rekey`). A unit owning a
    wider slice (a CUR billing period, whose newest manifest may sit under a new key) always deletes first."""
    return dict(unit.owns) == {"x_source": source.name, "x_source_file": unit.key}


def _days(frame: pl.DataFrame, column: str) -> tuple[date | None, date | None]:
    if not frame.height:
        return None, None
    lo, hi = frame.select(pl.col(column).min().dt.date().alias("lo"), pl.col(column).max().dt.date().alias("hi")).row(0)
    return lo, hi


# Parsed units wait in memory up to this many rows before one connection writes them in one transaction:
# opening and closing the file per unit (a checkpoint each time) tripled the demo's load time, and writing 2.1M
# rows of 2,000 units took 11.7 s in batches of 200k rows, 10.5 s of 500k, 9.6-10.0 s of 1M (bench/README.md).
FLUSH_ROWS = 1_000_000


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

    def take(self, pricer: Pricer | None) -> list[tuple[Unit, str | None, pl.DataFrame]]:
        """The waiting units, priced together (one pricing pass per batch, not per file: it has a fixed cost of
        about 12 ms, bench/README.md "End to end") and in one chunk when they are many small ones
        (`warehouse.db.compacted`); `price_usage` keeps row order, so each unit gets its slice.
        Bad input was refused unit by unit before (reader, bounds); pricing what passed can only fail on a bug,
        and then the step fails with nothing of the batch written, to be read again by the next run."""
        units, self.units, self.rows = self.units, [], 0
        if pricer is None or not units:
            return units
        priced = pricer(compacted(pl.concat([frame for _, _, frame in units], how="vertical_relaxed")))
        offsets = [0]
        for _, _, frame in units:
            offsets.append(offsets[-1] + frame.height)
        return [(unit, checksum, priced.slice(start, frame.height))
                for (unit, checksum, frame), start in zip(units, offsets)]

    def write(self, units: list[tuple[Unit, str | None, pl.DataFrame]]) -> dict[str, str]:
        if not units:
            return {}
        with self.db.connect() as con:
            return _write_units(con, self.source, units, self.price_version)


def ingest_source(
    db: Warehouse | duckdb.DuckDBPyConnection,
    source: SourceConfig,
    units: Callable[[], list[Unit]],
    *,
    pricer: Pricer | None = None,
    price_version: str | None = None,
    log: Log = lambda message: None,
    window: Window | None = None,
    scrub: Scrub | None = None,
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
        result = _quarantine(db, source, exc.location, None, exc.message, scrub=scrub)
        log(f"QUARANTINED {result.error}")
        return [result]
    if not planned:
        where = source.path or source.kind
        reason = f"source {source.name}: nothing to read at {where}"
        log(f"QUARANTINED {reason}")
        return [_quarantine(db, source, where, None, reason)]
    state = ingest_state(db, source)
    _forget_removed(db, source, state, {u.key for u in planned})
    selected = [u for u in planned if in_window(u.partition, window)]
    if window is not None:
        log(f"{source.name}: {len(selected)} of {len(planned)} units in {window[0]}..{window[1] - timedelta(days=1)}")
    if not selected:
        return []
    moved = moved_candidates(state, {u.key for u in planned})
    copies = copies_of(state, {u.key for u in planned})
    batch = _Batch(db, source, price_version)
    selected, pricer, write, wait = timings.ingest_parts(source.name, selected, pricer, batch.write,
                                                         lambda ahead: ahead.read.result())  # opt-in
    results: list[FileResult] = []

    def flush() -> None:
        statuses = write(batch.take(pricer))
        for i, r in enumerate(results):
            if r.status == "pending":
                results[i] = FileResult(r.source, r.location, statuses[r.location], r.rows, r.error, r.partition)

    step = max(1, len(selected) // 10)

    def finish(group: _Ahead) -> None:
        done = _finish_group(db, source, group, wait(group), batch=batch, scrub=scrub, copies=copies)
        results.extend(done)
        for unit, result in zip(group.units, done):
            if result.status == "quarantined":
                log(f"QUARANTINED {result.error}")
            elif result.status == "failed":
                log(f"FAILED (transient, will retry) {result.error}")
            elif result.status == "moved":
                log(f"{source.name}: {unit.key} {result.error}: kept its rows")
        if batch.full() or len(results) == len(selected):
            flush()
        for number in range(len(results) - len(done) + 1, len(results) + 1):
            if number % step == 0 or number == len(selected):
                log(f"{source.name}: {number}/{len(selected)} ({_summary(results)})")

    pool = ThreadPoolExecutor(max_workers=READ_AHEAD, thread_name_prefix=f"read-{source.name}")
    budget = Budget(READ_BYTES_AT_ONCE)
    try:
        ahead: deque[_Ahead] = deque()
        for group in _groups(selected):
            ahead.append(_start_group(db, source, group, state, pool, budget, price_version=price_version,
                                      moved=moved, scrub=scrub))
            if len(ahead) > READ_AHEAD:
                finish(ahead.popleft())
        while ahead:
            finish(ahead.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _forget_removed(db: Warehouse, source: SourceConfig, state: dict[str, dict], listed: set[str]) -> None:
    """Units quarantined last time that the source no longer lists are no longer owed: say so in ingest_log."""
    if any(last["status"] == "quarantined" and key not in listed for key, last in state.items()):
        with db.connect() as con:
            con.execute(sql("insert_removed"), [_now(), source.name, sorted(listed)])


def _summary(results: list[FileResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    rows = sum(r.rows for r in results)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f", {rows:,} rows"
