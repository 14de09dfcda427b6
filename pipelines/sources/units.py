"""Units: what is loaded or refused whole (a file, a billing period's delivery, an API day), and how one is named.

A unit's `key` is where it sits relative to its source's `path` (`2026-10/focus.csv`, `openai_costs:2026-11-01`),
so the same file is the same file wherever the project folder lives: a moved or copied checkout re-reads
nothing and doubles nothing. Its `location` is where it is read from (a path or an s3:// URI), for messages.
A unit names the day ("YYYY-MM-DD") or month ("YYYY-MM") it holds when its key carries one, so a partition
run reads only the units of its window (docs/architecture.md, "Units and partitions").
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl

from pipelines.sources.spec import PATH_DATES, PathDate
from pipelines.storage import StoredObject, storage_for

if TYPE_CHECKING:
    from pipelines.config import AispendConfig, SourceConfig
    from pipelines.sources.spec import SourceSpec

Window = tuple[date, date]  # [start, end): the dates a partition run covers


@dataclass(frozen=True)
class Unit:
    """One thing that is loaded or refused whole.

    `fingerprint` identifies the content cheaply (sha256 of the bytes, S3 ETags, a manifest's checksum) so an
    unchanged unit is skipped; None means "always read". `owns` says which rows the unit replaces.
    `partition` is the day or month the unit holds; None when it names no date (such a unit is read by every
    partition run; unchanged, it is skipped at the cost of a checksum). `version` is a local file's size and
    modification time: unchanged, the checksum logged with it is taken without reading the file
    (`ingest.checksum_of`).
    """

    key: str
    location: str
    load: Callable[[], pl.DataFrame]
    fingerprint: Callable[[], str | None]
    owns: dict[str, object]
    partition: str | None = None
    version: str | None = None
    # Units sharing this function may be loaded together, in one call, each getting the frame its `load` would
    # give; it raises when it cannot, and each is then loaded alone (pipelines/ingest.py).
    load_together: Callable[[list["Unit"]], list[pl.DataFrame]] | None = None
    # The stored bytes, when the listing says (files); ingest reads two units at once only while their stored
    # bytes stay under `read_ahead.READ_BYTES_AT_ONCE`.
    size: int | None = None


def path_partition(key: str, shapes: tuple[PathDate, ...] = PATH_DATES) -> str | None:
    """The day or month a key names ("2024-09-10", "2024-09"), or None when it names none.

    Shapes are tried in order; a match that is not a real date (month 13, a run of digits in an id) is ignored.
    """
    for shape in shapes:
        for m in reversed(list(shape.pattern.finditer(key))):
            year, month = int(m.group(1)), int(m.group(2))
            try:
                if shape.grain == "day":
                    return date(year, month, int(m.group(3))).isoformat()
                if 1970 <= year <= 2200:
                    return date(year, month, 1).isoformat()[:7]
            except ValueError:
                continue
    return None


def partition_period(partition: str) -> Window:
    """The dates a partition key covers, end exclusive: a day, or a calendar month."""
    if len(partition) == 7:
        start = date.fromisoformat(partition + "-01")
        return start, (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    day = date.fromisoformat(partition)
    return day, day + timedelta(days=1)


def in_window(partition: str | None, window: Window | None) -> bool:
    """Whether a partition run over `window` reads a unit: undated units always, dated ones that overlap.

    Overlap rather than "same grain": a month unit of a daily-partitioned table (a monthly usage export) is
    read by the days of its month, and an API day of a monthly-partitioned table by its month.
    """
    if window is None or partition is None:
        return True
    start, end = partition_period(partition)
    return start < window[1] and window[0] < end


def source_root(target: str) -> str:
    """The folder (or s3:// prefix) a source's path names: a glob's fixed part, a file's folder."""
    target = target.replace("\\", "/")
    if "*" in target or "?" in target or "[" in target:
        head = target.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0]
        return head.rsplit("/", 1)[0]
    return target.rstrip("/")


def relative_key(location: str, root: str) -> str:
    """Where an object sits below its source's root (`2026/10/a.json.gz`); the file name when it is the root."""
    location = location.replace("\\", "/")
    if location.startswith(root + "/"):
        return location[len(root) + 1:]
    return location.rsplit("/", 1)[-1]


# Small files are read together when the kind can (`SourceSpec.read_many`): a file this size or smaller, up to
# this many at once. A bigger file is read alone; its fixed cost is small beside its records (docs/architecture.md,
# "Units and partitions").
SMALL_FILE_BYTES = 1 << 20
TOGETHER = 32
# Ingest reads units on worker threads up to this many groups ahead of the one it checks and writes
# (pipelines/ingest.py): the units of READ_AHEAD + 1 groups can be fingerprinted and not yet loaded.
READ_AHEAD = 2
_HELD_GROUPS = READ_AHEAD + 2


class _Fetched:
    """The bytes of the files fingerprinted and not yet loaded, so each is read once: fingerprints are taken on
    the calling thread and loads run on ingest's worker threads, up to READ_AHEAD groups behind.

    It holds the newest files of _HELD_GROUPS groups: up to that many groups of `TOGETHER` small files, and at
    least the newest _HELD_GROUPS files whatever their size (a big file is a group of its own). Planning
    fingerprints units and loads none: it holds at most this much. A file dropped before its load is read again.
    """

    def __init__(self) -> None:
        self.held: dict[str, bytes] = {}
        self.size = 0
        self.lock = threading.Lock()

    def get(self, location: str, read: Callable[[str], bytes]) -> bytes:
        with self.lock:
            data = self.held.get(location)
        if data is not None:
            return data
        data = read(location)
        with self.lock:
            if location in self.held:  # another thread read it meanwhile: keep one copy, counted once
                return self.held[location]
            self.held[location] = data
            self.size += len(data)
            while len(self.held) > _HELD_GROUPS and (len(self.held) > _HELD_GROUPS * TOGETHER
                                                     or self.size > _HELD_GROUPS * TOGETHER * SMALL_FILE_BYTES):
                self._drop(next(iter(self.held)))
        return data

    def drop(self, location: str) -> None:
        with self.lock:
            self._drop(location)

    def _drop(self, location: str) -> None:
        self.size -= len(self.held.pop(location, b""))


def file_units(config: AispendConfig, source: SourceConfig, spec: SourceSpec) -> list[Unit]:
    """Every object the source's path names, local or on S3, each owning the rows it wrote."""
    target = config.resolve(source.path)
    root = source_root(target)
    storage = storage_for(target, source.endpoint_url, source.region)
    reader = spec.read
    fetched = _Fetched()  # a unit is loaded right after its fingerprint is taken, so its bytes are read once

    def load_together(units: list[Unit]) -> list[pl.DataFrame]:
        try:
            frames = spec.read_many([(u.location, fetched.get(u.location, storage.read)) for u in units], source)
        finally:
            for u in units:
                fetched.drop(u.location)
        return [frame.with_columns(pl.lit(u.key, pl.String).alias("x_source_file")) for u, frame in zip(units, frames)]

    units = []
    for obj in storage.list(target, source.options.pattern):
        key = relative_key(obj.location, root)

        def fetch(location: str = obj.location) -> bytes:
            return fetched.get(location, storage.read)

        def fingerprint(obj: StoredObject = obj, fetch=fetch) -> str:
            if obj.etag:
                return f"etag:{obj.etag}:{obj.size}"
            return hashlib.sha256(fetch()).hexdigest()

        def load(location: str = obj.location, key: str = key, fetch=fetch) -> pl.DataFrame:
            try:
                frame = reader(location, source, data=fetch())
            finally:
                fetched.drop(location)  # the bytes are parsed; do not hold every file of a source in memory
            return frame.with_columns(pl.lit(key, pl.String).alias("x_source_file"))

        owns = {"x_source": source.name, "x_source_file": key}
        version = None if obj.mtime_ns is None else f"{obj.size}:{obj.mtime_ns}"
        together = load_together if spec.read_many is not None and obj.size <= SMALL_FILE_BYTES else None
        units.append(Unit(key, obj.location, load, fingerprint, owns, path_partition(key, spec.path_dates), version,
                          together, obj.size))
    return units
