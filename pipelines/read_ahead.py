"""Reading units ahead of ingest, on worker threads: what a read gave, and how many stored bytes are read at once.

Ingest (pipelines/ingest.py) fingerprints, checks, writes and quarantines each unit in order on its own thread;
only reading runs here, with no connection and nothing written, so a unit's outcome is what it was when it was read
in turn (docs/architecture.md, "Units and partitions").
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl

from pipelines.sources.bounds import first_bad_value
from pipelines.sources.units import Unit

# Units are read on worker threads, up to `units.READ_AHEAD` groups ahead of the one being checked and written.
# One reader keeps about 1.6 of the two cores busy (its decoding runs on both, its gunzip and line split on one),
# and writing a batch left reading idle: with two reads at a time and reading on while a batch is written, the
# usage stage of a 10M-event first load took 15% less (bench/README.md). Two units are read at once only while
# their stored bytes stay under READ_BYTES_AT_ONCE; a bigger one is read alone: a day's OTel file at 100M events
# (46 MB gzipped, 500k spans) peaks at 2.8 GB read alone and 4.1 GB two at a time. Each unit is still checked,
# written or quarantined in order on the calling thread; a worker only reads (no connection, nothing written).
READ_BYTES_AT_ONCE = 32 << 20


@dataclass(frozen=True)
class Read:
    """What reading a group's units gave: per unit key its frame, or the exception its read raised (raised again
    where that unit is checked); `in_bounds` when the frames were checked against the table's bounds together."""

    outcomes: dict[str, pl.DataFrame | Exception]
    in_bounds: bool = False

    @property
    def height(self) -> int:  # the rows read, for the opt-in timings (pipelines/timings.py)
        return sum(f.height for f in self.outcomes.values() if isinstance(f, pl.DataFrame))


class Budget:
    """Stored bytes being read at once. Reads start in the order they were handed over (`ticket`), each when what is
    being read and itself fit `limit`, or when nothing else is being read: a unit bigger than the limit is read
    alone, never refused. A unit of unknown size (an API day, a page of a vendor's API) is read alone, so a
    vendor is asked one thing at a time, in order, as before."""

    def __init__(self, limit: int):
        self.limit, self.held, self.issued, self.serving = limit, 0, 0, 0
        self.ready = threading.Condition()

    def ticket(self) -> int:
        """A place in line, taken on the calling thread when a read is handed over."""
        self.issued += 1
        return self.issued - 1

    @contextmanager
    def taken(self, ticket: int, size: int | None):
        need = self.limit + 1 if size is None else size
        with self.ready:
            self.ready.wait_for(lambda: self.serving == ticket and (self.held == 0 or self.held + need <= self.limit))
            self.serving += 1
            self.held += need
            self.ready.notify_all()
        try:
            yield
        finally:
            with self.ready:
                self.held -= need
                self.ready.notify_all()


def read_within(budget: Budget, ticket: int, table: str, wanted: list[Unit]) -> Read:
    """`read` once `budget` lets this group's stored bytes in."""
    sizes = [u.size for u in wanted]
    with budget.taken(ticket, None if None in sizes else sum(sizes)):
        return read(table, wanted)


def read(table: str, wanted: list[Unit]) -> Read:
    """Read the units of a group that need reading: on a worker thread, with no connection, nothing written.

    Those of a group are read in one call: a Bedrock delivery is thousands of files of a few hundred records,
    and reading each alone cost about 13 ms of fixed work per file (bench/README.md). When the call raises, each
    is read alone, so a fault is named and quarantined file by file exactly as before; every later check is the
    unit's own."""
    if len(wanted) > 1:
        try:
            frames = {u.key: frame for u, frame in zip(wanted, wanted[0].load_together(wanted), strict=True)}
            # One bounds check for them all (about 1 ms a call, as much as reading a small file); when it finds
            # a value out of bounds, each unit is checked alone, which names the file and row.
            together = pl.concat(list(frames.values()), how="vertical_relaxed")
            return Read(frames, first_bad_value(together, table) is None)
        except Exception:  # noqa: BLE001 - each is read alone below, and that names the fault
            pass
    outcomes: dict[str, pl.DataFrame | Exception] = {}
    for unit in wanted:
        try:
            outcomes[unit.key] = unit.load()
        except Exception as exc:  # noqa: BLE001 - raised again where ingest checks the unit
            outcomes[unit.key] = exc
    return Read(outcomes)


def outcome(value: pl.DataFrame | Exception) -> pl.DataFrame:
    if isinstance(value, Exception):
        raise value
    return value
