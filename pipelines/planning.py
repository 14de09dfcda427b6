"""What a run has to do: the units that are new or changed, and the days each mart still owes.

Read before a run or a stage, from ingest_log and changed_days, reading no data file: unit fingerprints are
compared with the newest ingest_log entry (`ingest.is_current`, the one skip rule), and a mart's days are every
change recorded in the tables it reads since its last build. Both states are written in the same transactions
as the rows they describe, so a run killed anywhere leaves the next one a complete list (docs/operations.md,
"After a crash").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import duckdb

from pipelines.config import AispendConfig
from pipelines.errors import SourceError
from pipelines.ingest import checksum_of, ingest_state, is_current
from pipelines.loads import preparation_for
from pipelines.reads import hull, span
from pipelines.schemas import TIME_COLUMNS
from pipelines.sources import plan_units, spec
from pipelines.sources.units import Window, partition_period
from warehouse.db import Warehouse, as_warehouse, sql


@dataclass
class Pending:
    """A table's new or changed units: the partitions of dated ones, and the undated ones (read by any run)."""

    partitions: set[str] = field(default_factory=set)
    undated: list[str] = field(default_factory=list)

    def window(self) -> Window | None:
        periods = [partition_period(p) for p in self.partitions]
        return (min(s for s, _ in periods), max(e for _, e in periods)) if periods else None

    def __bool__(self) -> bool:
        return bool(self.partitions or self.undated)


def pending_units(db: Warehouse | duckdb.DuckDBPyConnection, config: AispendConfig, table: str) -> Pending:
    """Plan every source of a table and compare fingerprints with ingest_log, reading no data file.

    A unit is pending when it is new, changed, always re-read (fingerprint None, e.g. recent API days),
    quarantined last time, or (usage) priced with another price table. A unit whose fingerprint cannot be
    taken (a missing file) is pending too: its own run will quarantine it and say why.
    """
    db = as_warehouse(db)
    version = preparation_for(db, config, table)[1]
    out = Pending()
    for source in config.sources:
        if spec(source.kind).table != table:
            continue
        try:
            units = plan_units(config, source)
        except SourceError:
            out.undated.append(source.name)  # the run will quarantine the source and say why
            continue
        if not units:
            out.undated.append(source.name)  # a path that matches nothing: the run says so and fails the source
            continue
        state = ingest_state(db, source)
        listed = {u.key for u in units}
        if any(last["status"] == "quarantined" and key not in listed for key, last in state.items()):
            out.undated.append(source.name)  # a refused file that left its source: the run records it removed
        for unit in units:
            last = state.get(unit.key)
            if last is not None:  # a unit never loaded is pending whatever its bytes: no need to read them
                try:
                    checksum = checksum_of(unit, last)
                except SourceError:
                    checksum = None
                if is_current(last, checksum, version):
                    continue
            if unit.partition is None:
                out.undated.append(unit.key)
            else:
                out.partitions.add(unit.partition)
    return out


# Tables whose changes are recorded over every day of the partitions: new rates (on a first load, every day's;
# pipelines/fx.py) and a new task catalog (pipelines/loads.py). Such a change can alter a mart's rows only on days
# its other tables hold rows on, so those are all it owes. Without this, a first `aispend local` rebuilt its marts
# over the 701 days since its start_date for logs of a few days, most of the run in Dagster's bookkeeping of
# empty days (bench/README.md, "Dagster's own bookkeeping").
EVERY_DAY = ("fx_rates", "tasks")


def stale_days(con: duckdb.DuckDBPyConnection, mart: str, tables: list[str]) -> Window | None:
    """The days `mart` has to rebuild: every change to `tables` recorded since its last build."""
    owed = _owed(con, mart, tables)
    if not owed:
        return None
    return min(first for _, first, _ in owed), max(last for _, _, last in owed) + timedelta(days=1)


def mark_built(con: duckdb.DuckDBPyConnection, mart: str, tables: list[str], window: Window, bounds: Window) -> None:
    """Record that `mart` rebuilt `window` (in the caller's transaction, with the mart's rows): it has caught up with
    every change up to the first one that window did not cover. A change outside the partitions (`bounds`) counts
    as covered: no run ever rebuilds it."""
    last_day = bounds[1] - timedelta(days=1)
    missed = [change for change, first, last in _owed(con, mart, tables)
              if max(first, bounds[0]) <= min(last, last_day)
              and not (max(first, bounds[0]) >= window[0] and min(last, last_day) < window[1])]
    con.execute(sql("mark_built"), [mart, min(missed) - 1 if missed else None])


def _owed(con: duckdb.DuckDBPyConnection, mart: str, tables: list[str]) -> list[tuple[int, date, date]]:
    """(id, first day, last day) of each change `mart` has not rebuilt (owed_changes.sql), the days inclusive;
    a change that owes no day is left out."""
    rows = con.execute(sql("owed_changes"), [mart, tables, *_reach(con, tables)]).fetchall()
    return [(change, first, last) for change, first, last in rows if first <= last]


def _reach(con: duckdb.DuckDBPyConnection, tables: list[str]) -> list:
    """The EVERY_DAY tables and the first and last day the other `tables` hold rows on, read from the rows
    themselves (so rows loaded before changed_days existed count too); a first day after the last when they hold
    none. A table without a day column leaves those changes over every day."""
    others = [t for t in tables if t not in EVERY_DAY]
    if any(t not in TIME_COLUMNS for t in others):
        return [list(EVERY_DAY), date.min, date.max]
    rows = hull(*(span(con, t, TIME_COLUMNS[t]) for t in others))
    if rows is None:
        return [list(EVERY_DAY), date.max, date.min]
    return [list(EVERY_DAY), rows[0], rows[1] - timedelta(days=1)]


def utc_today() -> date:
    return datetime.now(timezone.utc).date()
