"""`aispend run` killed with SIGKILL at each stage boundary, and between a step's commit and its snapshot, of a
first run and of an incremental run; the next run must leave every mart and every snapshot equal to an
uninterrupted run's (docs/operations.md, "After a crash").

The kill comes from the test-only hook `AISPEND_TEST_KILL_AT=<point>` (pipelines/crashpoint.py): the process kills
itself with SIGKILL at that point, which is what `kill -9` at that moment does. The killed run and the run that
repairs it are the real `aispend run`; the first run of the incremental scenario and the uninterrupted runs go
through the same plan in process (`run_in_process`), which is quicker and writes the same tables. The incremental run adds a day of
logs and restates the month's AWS bill (lines added), so every stage has work. The fast suite keeps one case:
an incremental run killed between its loads and its marts; the whole matrix is marked slow.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import polars.selectors as cs
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import load_config
from pipelines.crashpoint import ENV
from pipelines.demo.generate import generate_demo
from pipelines.graph import BY_NAME
from pipelines.marts import MARTS
from pipelines.plan import run_in_process, stages
from warehouse.db import SNAPSHOT_TABLES

REPO = Path(__file__).resolve().parents[2]
HELD_BACK_LOG = "logs/otel/2026-11-15.jsonl.gz"
RESTATED_BILL = "billing/aws-focus-2026-11.csv"

# Every stage boundary of a run (before each stage but the first), and a step's commit before its snapshot.
BOUNDARIES = [f"before:{stage.steps[0]}" for stage in stages()[1:]]
COMMITS = [f"committed:{name}" for name in ("cost_lines", "usage_events", "spend_daily", "usage_daily",
                                            "task_daily", "task_roi", "waste", "check_results")]
FAST = ("incremental", "before:spend_daily")  # killed after its loads, before any of its marts


def run(folder: Path, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if kill_at:
        env[ENV] = kill_at
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--config", str(folder / "aispend.yaml")],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in a stable order (by the exact columns first: floats summed in another order differ in the last
    bits, so they are compared with a tolerance), lists as text."""
    frame = frame.with_columns(cs.by_dtype(pl.List(pl.String)).list.join(";"))
    exact = [c for c, t in frame.schema.items() if not t.is_float()]
    return frame.sort([*exact, *[c for c in frame.columns if c not in exact]], nulls_last=True)


def same(got: pl.DataFrame | str, want: pl.DataFrame | str) -> bool:
    if isinstance(got, str) or isinstance(want, str):  # "missing": no snapshot file
        return isinstance(got, str) and isinstance(want, str) and got == want
    try:
        assert_frame_equal(got, want, rel_tol=1e-9, abs_tol=1e-9)
    except AssertionError:
        return False
    return True


# What may differ between two runs of the same data: when things happened.
PROJECTIONS = {
    "ingest_log": "SELECT source, location, status, rows FROM {rel} QUALIFY row_number() OVER "
                  "(PARTITION BY source, location ORDER BY loaded_at DESC) = 1",
    "check_results": "SELECT check_name, asset, severity, passed, description, offending FROM {rel}",
}
TABLES = sorted({*MARTS, *SNAPSHOT_TABLES})


def state(folder: Path) -> dict[str, pl.DataFrame | str | list]:
    """Every mart and snapshot table, and every snapshot file, as rows; and the marts still owing days."""
    warehouse = folder / "warehouse"
    con = duckdb.connect(str(warehouse / "aispend.duckdb"), read_only=True)
    try:
        out = {}
        for table in TABLES:
            statement = PROJECTIONS.get(table, "SELECT * FROM {rel}")
            out[table] = _rows(con.sql(statement.format(rel=table)).pl())
            if table in SNAPSHOT_TABLES:
                snapshot = warehouse / "snapshot" / f"{table}.parquet"
                rel = f"read_parquet('{snapshot}')"
                out[f"snapshot:{table}"] = _rows(con.sql(statement.format(rel=rel)).pl()) if snapshot.exists() \
                    else "missing"
        out["owed"] = con.sql(
            "SELECT DISTINCT m.mart FROM (SELECT unnest(?) AS mart) m, changed_days c "
            "WHERE c.id > coalesce((SELECT through_id FROM mart_builds b WHERE b.mart = m.mart), 0)",
            params=[[n for n, s in BY_NAME.items() if s.step == "mart" and s.grain]]).fetchall()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Path]:
    """The demo's files in their final form, and in the form the incremental scenario's first run saw."""
    root = tmp_path_factory.mktemp("crash")
    final = generate_demo(root / "final", days=6, events_target=1_500, end_date=date(2026, 11, 15)).parent
    before = root / "before"
    shutil.copytree(final, before)
    (before / HELD_BACK_LOG).unlink()
    bill = (before / RESTATED_BILL).read_text().splitlines()
    (before / RESTATED_BILL).write_text("\n".join(bill[:-8]) + "\n")   # the restatement adds 8 lines
    run_in_process(load_config(before / "aispend.yaml"))
    return {"final": final, "after_first": before}


def _copy(demo: dict[str, Path], scenario: str, into: Path) -> Path:
    """A fresh copy: the final files with no warehouse (first run), or the first run's warehouse with the final
    files in place (incremental run)."""
    folder = into / "demo"
    if scenario == "first":
        shutil.copytree(demo["final"], folder, ignore=shutil.ignore_patterns("warehouse"))
    else:
        shutil.copytree(demo["after_first"], folder)
        for changed in (HELD_BACK_LOG, RESTATED_BILL):
            shutil.copy(demo["final"] / changed, folder / changed)
    return folder


@pytest.fixture(scope="module")
def uninterrupted(demo, tmp_path_factory):
    """The state an uninterrupted run of a scenario leaves, made once per scenario when first asked for."""
    made: dict[str, dict] = {}

    def of(scenario: str) -> dict:
        if scenario not in made:
            folder = _copy(demo, scenario, tmp_path_factory.mktemp(f"whole-{scenario}"))
            run_in_process(load_config(folder / "aispend.yaml"))
            made[scenario] = state(folder)
        return made[scenario]

    return of


def _crash_and_repair(demo, uninterrupted, tmp_path, scenario: str, point: str) -> None:
    folder = _copy(demo, scenario, tmp_path)
    killed = run(folder, kill_at=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached:\n{killed.stderr[-2000:]}"
    repaired = run(folder)
    assert repaired.returncode == 0, repaired.stderr[-3000:]
    got, want = state(folder), uninterrupted(scenario)
    assert got["owed"] == [] == want["owed"]
    for table in TABLES:
        assert same(got[table], want[table]), f"{table} differs from an uninterrupted run after a kill at {point}"
        if table in SNAPSHOT_TABLES:
            assert same(got[f"snapshot:{table}"], got[table]), f"the snapshot of {table} is stale after a kill at {point}"


def test_an_incremental_run_killed_between_its_loads_and_its_marts_is_repaired(demo, uninterrupted, tmp_path):
    _crash_and_repair(demo, uninterrupted, tmp_path, *FAST)


@pytest.mark.slow
@pytest.mark.parametrize("point", BOUNDARIES + COMMITS)
@pytest.mark.parametrize("scenario", ["first", "incremental"])
def test_a_run_killed_anywhere_is_repaired_by_the_next(demo, uninterrupted, tmp_path, scenario, point):
    if (scenario, point) == FAST:
        pytest.skip("in the fast suite: test_an_incremental_run_killed_between_its_loads_and_its_marts_is_repaired")
    _crash_and_repair(demo, uninterrupted, tmp_path, scenario, point)
