"""What a run owes survives the run: marts rebuilt after a load that was never followed by them, and a project
moved to another folder re-reads nothing (docs/operations.md, "After a crash" and "A moved folder").

Each case is compared with an uninterrupted run of the same files into a fresh warehouse.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta

import duckdb
import pytest

from pipelines.config import load_config
from pipelines.demo.generate import generate_demo
from pipelines import marts
from pipelines.execute import run_step
from pipelines.graph import loaded_tables
from pipelines.plan import Planner, run_in_process, stages
from pipelines.planning import stale_days
from warehouse.db import connect_writer

MARTS = ["spend_daily", "usage_daily", "task_daily", "allocated_cost", "task_roi", "reconciliation",
         "model_whatif", "waste", "anomalies"]


def totals(config) -> dict:
    con = duckdb.connect(str(config.warehouse_path), read_only=True)
    try:
        out = {"cost_lines": con.sql("SELECT count(*), round(sum(BilledCost), 6) FROM cost_lines").fetchone(),
               "usage_events": con.sql("SELECT count(*), round(sum(cost_usd), 6) FROM usage_events").fetchone()}
        for mart in MARTS:
            out[mart] = con.sql(f"SELECT count(*) FROM {mart}").fetchone()[0]
        out["spend_daily_billed"] = con.sql("SELECT round(sum(billed_cost), 6) FROM spend_daily").fetchone()[0]
        out["usage_daily_cost"] = con.sql("SELECT round(sum(cost_usd), 6) FROM usage_daily").fetchone()[0]
        out["task_daily_allocated"] = con.sql("SELECT round(sum(allocated_cost_usd), 6) FROM task_daily").fetchone()[0]
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("state")
    return generate_demo(root / "demo", days=6, events_target=1_500, end_date=date(2026, 11, 15))


@pytest.fixture(scope="module")
def ran(demo, tmp_path_factory):
    """The demo's folder after one uninterrupted run (its warehouse inside)."""
    copy = tmp_path_factory.mktemp("whole") / "demo"
    shutil.copytree(demo.parent, copy)
    run_in_process(load_config(copy / "aispend.yaml"))
    return copy


@pytest.fixture(scope="module")
def uninterrupted(ran):
    return totals(load_config(ran / "aispend.yaml"))


def fresh(demo, tmp_path):
    shutil.copytree(demo.parent, tmp_path / "demo")
    return load_config(tmp_path / "demo" / "aispend.yaml")


def after_a_run(ran, tmp_path):
    """A copy of the folder of a finished run (copytree keeps files' modification times, as a moved project does)."""
    shutil.copytree(ran, tmp_path / "demo")
    return load_config(tmp_path / "demo" / "aispend.yaml")


def test_loads_without_their_marts_are_rebuilt_by_the_next_run(demo, tmp_path, uninterrupted):
    config = fresh(demo, tmp_path)
    for step in ("prices", "tasks", "cost_lines", "usage_events"):  # then the process "dies"
        run_step(step, config)
    con = duckdb.connect(str(config.warehouse_path))
    assert stale_days(con, "usage_daily", ["usage_events"]) is not None
    con.close()
    run_in_process(config)                 # nothing new to load: only the owed marts
    assert totals(config) == uninterrupted
    con = duckdb.connect(str(config.warehouse_path))
    assert stale_days(con, "usage_daily", ["usage_events"]) is None
    assert stale_days(con, "task_daily", ["cost_lines", "usage_events"]) is None
    con.close()


def test_new_rates_and_catalog_owe_only_the_days_that_hold_rows(demo, tmp_path, uninterrupted):
    """The rates and the task catalog are recorded as changed on every day of the partitions; a mart owes only the
    days its other tables hold rows on (none before they hold any), and a run that rebuilt those owes nothing."""
    config = fresh(demo, tmp_path)
    for step in ("fx_rates", "tasks"):
        run_step(step, config)
    con = duckdb.connect(str(config.warehouse_path))
    recorded = con.sql("SELECT min(first_day) FROM changed_days WHERE table_name IN ('fx_rates', 'tasks')").fetchone()
    assert recorded[0] == config.start_date
    assert stale_days(con, "waste", loaded_tables("waste")) is None
    con.close()

    for step in ("prices", "cost_lines", "usage_events"):
        run_step(step, config)
    con = duckdb.connect(str(config.warehouse_path))
    lo, hi = con.sql("SELECT min(day), max(day) FROM (SELECT CAST(event_time AS DATE) AS day FROM usage_events "
                     "UNION ALL SELECT CAST(ChargePeriodStart AS DATE) FROM cost_lines)").fetchone()
    assert recorded[0] < lo                                  # the rates reach further back than the rows
    assert stale_days(con, "waste", loaded_tables("waste")) == (lo, hi + timedelta(days=1))
    assert stale_days(con, "usage_daily", loaded_tables("usage_daily"))[0] >= lo
    con.close()

    run_in_process(config)
    assert totals(config) == uninterrupted
    con = duckdb.connect(str(config.warehouse_path))
    for mart in ("waste", "usage_daily", "task_daily", "whatif_runs_daily"):
        assert stale_days(con, mart, loaded_tables(mart)) is None, mart
    con.close()


def test_a_moved_project_reads_nothing_again(demo, tmp_path, uninterrupted):
    config = fresh(demo, tmp_path)
    run_in_process(config)
    moved = tmp_path / "elsewhere" / "demo"
    moved.parent.mkdir()
    shutil.move(tmp_path / "demo", moved)
    config = load_config(moved / "aispend.yaml")
    results = run_in_process(config)
    assert {r.status for r in results} <= {"unchanged"}
    assert totals(config) == uninterrupted


def test_units_recorded_by_absolute_path_take_their_relative_key_without_loading_twice(demo, tmp_path,
                                                                                      uninterrupted):
    """A warehouse written before units were named relative to their source's path keeps its rows."""
    config = fresh(demo, tmp_path)
    run_in_process(config)
    root = str(tmp_path / "demo")
    con = duckdb.connect(str(config.warehouse_path))
    for table, source, folder in (("cost_lines", "billing", "billing"), ("usage_events", "app_logs", "logs/otel")):
        con.execute(f"UPDATE {table} SET x_source_file = ? || '/' || x_source_file WHERE x_source = ?",
                    [f"{root}/{folder}", source])
    con.execute("UPDATE ingest_log SET location = ? || '/' || location WHERE source = 'billing'", [f"{root}/billing"])
    con.execute("UPDATE ingest_log SET location = ? || '/' || location WHERE source = 'app_logs'",
                [f"{root}/logs/otel"])
    con.close()
    results = run_in_process(config)
    assert {r.status for r in results if r.source in ("billing", "app_logs")} == {"moved"}
    assert {r.status for r in results if r.source not in ("billing", "app_logs", "task_catalog")} == {"unchanged"}
    assert totals(config) == uninterrupted
    con = duckdb.connect(str(config.warehouse_path), read_only=True)
    assert con.sql("SELECT count(*) FROM usage_events WHERE x_source_file LIKE '/%'").fetchone()[0] == 0
    con.close()


def table(config, name: str, order: str) -> list[tuple]:
    """A table's rows, numbers rounded to 1e-9: sums over rows stored in another order differ in the last bits."""
    con = duckdb.connect(str(config.warehouse_path), read_only=True)
    try:
        rows = con.sql(f"SELECT * FROM {name} ORDER BY {order}").fetchall()
    finally:
        con.close()
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def test_a_new_task_catalog_rebuilds_waste_over_every_day(ran, tmp_path):
    """waste is built by day; the catalog says which tasks can wait for the batch API, so a new catalog owes every
    day. Compared with waste rebuilt whole from the same tables afterwards (not this code's incremental path)."""
    config = after_a_run(ran, tmp_path)
    catalog = tmp_path / "demo" / "tasks.yaml"
    text = catalog.read_text()
    assert text.count("latency_sensitive: true") >= 2
    catalog.write_text(text.replace("latency_sensitive: true", "latency_sensitive: false"))
    before = table(config, "waste", "ALL")
    run_in_process(config)
    after = table(config, "waste", "ALL")

    con = connect_writer(config.warehouse_path)
    marts.build(con, config, "waste")               # no window: every day its inputs span
    con.close()
    assert after != before      # more tasks can wait: more batch_eligible rows, on every day of the demo
    assert after == table(config, "waste", "ALL")
    days = {row[0] for row in set(after) - set(before)}
    assert len(days) >= 5       # the change reached back over the whole history, not just the newest day


def test_a_reloaded_file_rebuilds_the_whatif_sums_of_its_day_and_its_neighbours_only(ran, tmp_path, uninterrupted):
    """model_whatif reads per-day sums kept by day: after a run, a re-loaded day's sums (and the day either side,
    where its runs may start) are rebuilt and the whole equals an uninterrupted run."""
    config = after_a_run(ran, tmp_path)
    whatif = table(config, "model_whatif", "ALL")
    con = duckdb.connect(str(config.warehouse_path))
    con.execute("UPDATE ingest_log SET checksum = 'stale', file_version = NULL "    # as if the file had changed
                "WHERE source = 'app_logs' AND location LIKE '%2026-11-12%'")
    con.close()
    run_step("usage_events", config)                           # re-reads that one file only
    planner = Planner(config, lambda m: None)
    stage = next(s for s in stages() if "whatif_runs_daily" in s.steps)
    # the file's day, and the day either side where runs that reach into it may start
    assert planner.window(stage) == (date(2026, 11, 11), date(2026, 11, 14))
    run_in_process(config)
    assert totals(config) == uninterrupted
    assert table(config, "model_whatif", "ALL") == whatif


def test_planning_reads_no_unchanged_local_file_again(ran, tmp_path, monkeypatch):
    """Planning fingerprints every unit; a local file whose size and modification time are those logged with its
    checksum is not read again (a daily run over a long history would otherwise read all of it). A touched file
    is read and hashed: same bytes, still nothing to load."""
    from pipelines import storage
    from pipelines.planning import pending_units
    from warehouse.db import Warehouse

    config = after_a_run(ran, tmp_path)
    read = []
    real = storage.LocalStorage.read
    monkeypatch.setattr(storage.LocalStorage, "read", lambda self, location: read.append(location) or real(self, location))
    db = Warehouse(config.warehouse_path)
    assert not pending_units(db, config, "usage_events") and read == []

    touched = sorted((tmp_path / "demo" / "logs").rglob("*.jsonl.gz"))[2]
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not pending_units(db, config, "usage_events") and read == [str(touched)]

    # A file never loaded is pending whatever it holds: planning does not read it (a first load would otherwise
    # read the whole history twice, once to plan and once to load).
    new = touched.with_name("new-" + touched.name)
    shutil.copyfile(touched, new)
    read.clear()
    pending = pending_units(db, config, "usage_events")
    assert pending.partitions and str(new) not in read and read == [str(touched)]  # touched: as above
