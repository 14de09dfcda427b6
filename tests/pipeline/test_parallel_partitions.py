"""Two daily partitions written by two processes at once: no DuckDB lock errors, and the right totals.

DuckDB lets one process at a time open a file for writing. The pipeline holds the writer only while it writes
a unit, and `connect_writer` waits (bounded, with backoff) while another process holds it. Here two Dagster
runs with the multiprocess executor, started together, each load a range of days into the same warehouse;
expected totals come from plain DuckDB SQL over the input files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.pipeline.test_partitions import AGENTS, APP, APP_MARTS, spans_in, usage_files
from tests.support.agent_logs import agent_totals
from warehouse.db import WarehouseBusy, connect_writer

REPO = Path(__file__).resolve().parents[2]

HOLD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from warehouse.db import connect_writer
    con = connect_writer({db!r})
    print("holding", flush=True)
    time.sleep({seconds})
    con.close()
""")


def hold_lock(db: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD.format(repo=str(REPO), db=str(db), seconds=seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_connect_writer_waits_for_another_process_then_gives_up_clearly(tmp_path):
    db = tmp_path / "wh.duckdb"
    connect_writer(db).close()
    holder = hold_lock(db, 1.5)
    try:
        with pytest.raises(WarehouseBusy, match="locked for more than 0 s"):
            connect_writer(db, wait_s=0.3)
        started = time.monotonic()
        con = connect_writer(db, wait_s=30)          # waits for the holder to let go
        waited = time.monotonic() - started
        con.close()
    finally:
        holder.wait(timeout=30)
    assert 0.3 < waited < 10


dg = pytest.importorskip("dagster")

# A run of usage_events + usage_daily over a range of days, with the multiprocess executor (each step in its
# own process, as a deployment would run it). Reconstructed in each run's processes from AISPEND_CONFIG.


def usage_job():
    from pipelines.config import load_config
    from pipelines.defs.assets import build_assets
    from pipelines.defs.resources import AispendResource

    config = os.environ["AISPEND_CONFIG"]
    assets = build_assets(load_config(config).start_date)
    defs = dg.Definitions(
        assets=assets,
        jobs=[dg.define_asset_job("usage_days", selection=["usage_events", "usage_daily"],
                                  executor_def=dg.multiprocess_executor)],
        resources={"aispend": AispendResource(config_path=config, lock_wait_s=120)},
    )
    return defs.resolve_job_def("usage_days")


RUN = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {repo!r})
    os.makedirs({home!r}, exist_ok=True)
    import dagster as dg
    from tests.pipeline.test_parallel_partitions import usage_job
    with dg.DagsterInstance.local_temp({home!r}) as instance:
        result = dg.execute_job(dg.reconstructable(usage_job), instance,
                                tags={{"dagster/asset_partition_range_start": {first!r},
                                      "dagster/asset_partition_range_end": {last!r}}})
        failures = [e.message for e in result.all_events if e.is_step_failure]
        print("RESULT", result.success, failures, flush=True)
""")


def test_two_partition_ranges_in_parallel(tmp_path):
    from pipelines.config import load_config
    from pipelines.demo import generate_demo
    from pipelines.loads import load_prices

    root = tmp_path / "demo"
    config = generate_demo(root, days=6, events_target=3000, end_date=date(2026, 11, 6))
    con = connect_writer(load_config(config).warehouse_path)
    load_prices(con, load_config(config))
    con.close()

    env = {**os.environ, "AISPEND_CONFIG": str(config), "PYTHONPATH": str(REPO)}
    ranges = [("2026-11-01", "2026-11-03"), ("2026-11-04", "2026-11-06")]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN.format(repo=str(REPO), home=str(tmp_path / f"home{i}"), first=a, last=b)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i, (a, b) in enumerate(ranges)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for out, err in outputs:
        assert "RESULT True []" in out, (out[-2000:], err[-4000:])
        assert "Could not set lock" not in err

    db = duckdb.connect(str(load_config(config).warehouse_path), read_only=True)
    try:
        got = db.sql(f"SELECT sum(request_count), sum(output_tokens) FROM usage_events WHERE {APP}").fetchone()
        daily = db.sql(f"SELECT sum(requests), sum(output_tokens) FROM usage_daily WHERE {APP_MARTS}").fetchone()
        agents = db.sql(f"SELECT sum(request_count), sum(output_tokens) FROM usage_events WHERE {AGENTS}").fetchone()
        days = db.sql("SELECT count(DISTINCT day) FROM usage_daily").fetchone()[0]
        logged = db.sql("SELECT count(*) FROM ingest_log WHERE source = 'app_logs' AND status = 'loaded'").fetchone()[0]
    finally:
        db.close()
    expected = spans_in(usage_files(root))
    assert got == expected
    assert daily == expected
    # the agents' undated project folders, read by both ranges at once: still each call once
    assert agents == agent_totals(root)
    assert days == 6 and logged == 6
