"""Opt-in timings of a run's parts, for the end-to-end benchmark (bench/end_to_end.py, bench/README.md).

With `AISPEND_TIMINGS=1` in the environment, each step of a run logs one line when it ends:
`aispend-timing {"step": ..., "seconds": ..., "parts": {...}, "rows": {...}}`, where `parts` are the seconds
spent in each named part of the step (a load: per source, fingerprinting (fetch + checksum), parsing (waiting for
the reader, normalization included: `ingest_parts`), pricing and writing; any step: publishing its snapshots)
and `rows` the rows each source's reader returned. Without the variable nothing is measured or logged and the
wrapped functions are called as they are. Steps run one at a time in a process (Dagster's in-process executor,
`plan.run_in_process`), so the step being timed is simply the innermost open one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

ENV = "AISPEND_TIMINGS"
PREFIX = "aispend-timing "

F = TypeVar("F", bound=Callable[..., Any])
_open: list[dict] = []  # the steps being timed in this process, innermost last


def enabled() -> bool:
    return os.environ.get(ENV, "").strip() not in ("", "0")


@contextmanager
def step(name: str, log: Callable[[str], None]) -> Iterator[None]:
    """Time a step and, when timings are on, log its line at the end (also when it fails)."""
    if not enabled():
        yield
        return
    record: dict[str, Any] = {"step": name, "parts": {}, "rows": {}}
    _open.append(record)
    started = time.perf_counter()
    try:
        yield
    finally:
        _open.remove(record)
        record["seconds"] = round(time.perf_counter() - started, 4)
        record["parts"] = {k: round(v, 4) for k, v in record["parts"].items()}
        log(PREFIX + json.dumps(record))


def add(part: str, seconds: float, rows: tuple[str, int] | None = None) -> None:
    """Count seconds (and rows of a source) to the step being timed; nothing when none is."""
    if not _open:
        return
    record = _open[-1]
    record["parts"][part] = record["parts"].get(part, 0.0) + seconds
    if rows is not None:
        record["rows"][rows[0]] = record["rows"].get(rows[0], 0) + rows[1]


def timed(part: str, fn: F, rows_of: str | None = None) -> F:
    """`fn`, counting its seconds to `part` (and, with `rows_of`, its result's rows to that source)."""

    def wrapper(*args, **kwargs):
        if not _open:
            return fn(*args, **kwargs)
        started = time.perf_counter()
        out = None
        try:
            out = fn(*args, **kwargs)
            return out
        finally:
            frames = out if isinstance(out, list) else [out]  # load_together gives one frame per unit
            height = sum(getattr(f, "height", 0) for f in frames) if rows_of and out is not None else None
            add(part, time.perf_counter() - started, (rows_of, height) if height is not None else None)

    return wrapper  # type: ignore[return-value]


def ingest_parts(source: str, units: list, pricer, flush, wait):
    """A source's units, pricer, batch flush and wait for a read, each counting to `<source>/<part>` (unchanged
    when off).

    Units are read on worker threads while the calling thread checks and writes the ones before
    (pipelines/ingest.py), so `parse` counts the time the calling thread waits for a read, not the reading
    threads' own time: the parts of a load then add up to its wall time, and reading that overlaps a write is
    counted once, in the write."""
    if not enabled():
        return units, pricer, flush, wait
    units = [dataclasses.replace(u, fingerprint=timed(f"{source}/fingerprint", u.fingerprint)) for u in units]
    return (units, (timed(f"{source}/price", pricer) if pricer else None), timed(f"{source}/write", flush),
            timed(f"{source}/parse", wait, rows_of=source))
