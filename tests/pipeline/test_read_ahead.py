"""Units are read on worker threads ahead of the one being checked and written (pipelines/ingest.py,
READ_AHEAD): what a run reports and writes stays unit by unit, in order, and reading never runs further ahead
than that bound, which is what keeps a load's memory to a few units.

Fake units count what happened before each read; the expected figures are counted by hand from the bound.
"""

from __future__ import annotations

import threading
import time

from pipelines import ingest
from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.read_ahead import READ_BYTES_AT_ONCE
from pipelines.sources.units import Unit
from warehouse.db import Warehouse

from tests.pipeline.test_ingest_writes import events

UNITS = 8
BAD = 5  # the unit whose read refuses it


def test_reads_run_ahead_on_worker_threads_and_results_stay_in_order(tmp_path):
    db = Warehouse(tmp_path / "wh.duckdb")
    source = SourceConfig(name="logs", kind="usage_csv", path="x")
    progress: list[str] = []
    seen: dict[int, tuple[str, int]] = {}  # unit -> (thread that read it, units reported done before the read)

    def load(k: int):
        seen[k] = (threading.current_thread().name, len(progress))
        if k == BAD:
            raise SourceError(f"day{k}.csv", "not a CSV")
        return events(f"day{k}.csv", [k + 1, k + 1])  # two rows on the (k+1)th of November

    def unit(k: int) -> Unit:
        key = f"day{k}.csv"
        return Unit(key, key, lambda: load(k), lambda: None, {"x_source": "logs", "x_source_file": key}, None)

    results = ingest.ingest_source(db, source, lambda: [unit(k) for k in range(UNITS)], log=progress.append)

    assert [r.location for r in results] == [f"day{k}.csv" for k in range(UNITS)]
    assert [r.status for r in results] == ["loaded"] * BAD + ["quarantined"] + ["loaded"] * (UNITS - BAD - 1)
    assert "not a CSV" in results[BAD].error
    # Every read ran off the calling thread, and none before the unit READ_AHEAD + 1 places back was reported
    # (one progress line a unit here: 8 units, every tenth rounds to every one).
    caller = threading.current_thread().name
    assert all(name != caller and name.startswith("read-logs") for name, _ in seen.values())
    assert all(done >= k - ingest.READ_AHEAD - 1 for k, (_, done) in seen.items())
    with db.connect() as con:
        rows = con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
        logged = con.execute("SELECT location, status FROM ingest_log ORDER BY location").fetchall()
    assert rows == 2 * (UNITS - 1)  # the refused unit's two rows never entered
    assert logged == [(f"day{k}.csv", "quarantined" if k == BAD else "loaded") for k in range(UNITS)]


def test_units_bigger_than_the_byte_budget_are_read_one_at_a_time(tmp_path):
    """Two big files decoded at once is what takes a load's memory past its bound (pipelines/read_ahead.py)."""
    db = Warehouse(tmp_path / "wh.duckdb")
    source = SourceConfig(name="logs", kind="usage_csv", path="x")
    lock, active, most = threading.Lock(), [0], [0]

    def load(k: int):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.05)  # long enough for a second worker to start one if it were allowed
        with lock:
            active[0] -= 1
        return events(f"day{k}.csv", [k + 1])

    def unit(k: int, size: int) -> Unit:
        key = f"day{k}.csv"
        return Unit(key, key, lambda: load(k), lambda: None, {"x_source": "logs", "x_source_file": key}, None,
                    size=size)

    big = READ_BYTES_AT_ONCE // 2 + 1  # two of these pass the budget
    results = ingest.ingest_source(db, source, lambda: [unit(k, big) for k in range(6)])
    assert [r.status for r in results] == ["loaded"] * 6 and most[0] == 1
