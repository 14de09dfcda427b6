"""Faults a whole run must answer with the right verdict, run after run: checks that do not flip without a
change, a source that matches nothing, a refused file that is deleted, rows outside the day a file's name says,
a copied project.

Exit codes come from the real command (Dagster and all); the runs that follow, to see a verdict hold or clear,
go through the same plan in process (`run_in_process`), which stores the same check results. Expected figures
are plain SQL or hand counts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from pipelines.config import load_config
from pipelines.demo.generate import generate_demo
from pipelines.plan import run_in_process

from tests.faults.kinds import FIXTURES, GOOD_DAY, config_text

REPO = Path(__file__).resolve().parents[2]


def run(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--config", str(config)],
                          capture_output=True, text=True, cwd=REPO, timeout=600)


def sql(config: Path, statement: str) -> list[tuple]:
    con = duckdb.connect(str(load_config(config).warehouse_path), read_only=True)
    try:
        return con.sql(statement).fetchall()
    finally:
        con.close()


def check(config: Path, name: str, asset: str) -> tuple:
    return sql(config, f"SELECT passed, severity, description, changed_at, evaluated_at FROM check_results "
                       f"WHERE check_name = '{name}' AND asset = '{asset}'")[0]


def test_a_failing_check_fails_every_run_until_the_data_changes(tmp_path):
    """Two exports of one billing account in two currencies: an error check. The second run loads nothing new;
    it used to exit 0 because checks only ran with a partition. Fixing the data makes it pass."""
    focus = FIXTURES["focus"]
    folder = tmp_path / "billing"
    folder.mkdir()
    focus.write(folder, GOOD_DAY)
    eur = [{**r, "BillingCurrency": "EUR"} for r in focus.rows(GOOD_DAY.replace(day=3))]
    euro_file = focus.write(folder, GOOD_DAY.replace(day=3), eur)
    config = tmp_path / "aispend.yaml"
    config.write_text(config_text([focus.source("billing", folder)]))

    first = run(config)
    assert first.returncode == 1, first.stderr[-3000:]
    assert "FAILED check cost_lines:one_currency_per_account" in first.stderr
    passed, severity, _, since, _ = check(config, "one_currency_per_account", "cost_lines")
    assert (passed, severity) == (False, "error")

    second = run(config)
    assert second.returncode == 1, second.stderr[-3000:]
    assert "FAILED check cost_lines:one_currency_per_account" in second.stderr
    passed, _, _, still_since, evaluated = check(config, "one_currency_per_account", "cost_lines")
    assert not passed and still_since == since and evaluated > since   # evaluated again; failing since run 1

    euro_file.write_bytes(focus.body(focus.rows(GOOD_DAY.replace(day=3))))  # re-exported in USD
    run_in_process(load_config(config))
    assert check(config, "one_currency_per_account", "cost_lines")[0] is True


def test_a_source_that_matches_nothing_fails_the_run_until_it_does(tmp_path):
    focus = FIXTURES["focus"]
    (tmp_path / "billing").mkdir()
    focus.write(tmp_path / "billing", GOOD_DAY)
    (tmp_path / "azure").mkdir()
    config = tmp_path / "aispend.yaml"
    config.write_text(config_text([focus.source("billing", tmp_path / "billing"),
                                   {"name": "azure", "kind": "azure_ea", "path": "azure/*.csv"}]))
    done = run(config)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "source azure: nothing to read" in done.stderr
    assert "FAILED check cost_lines:no_quarantined_input" in done.stderr
    run_in_process(load_config(config))  # the same verdict on the next run, with nothing changed
    assert check(config, "no_quarantined_input", "cost_lines")[0] is False
    # the other source loaded, and the marts hold exactly what the tables hold
    assert sql(config, "SELECT count(*), sum(BilledCost) FROM cost_lines") == [(2, 3.75)]
    assert sql(config, "SELECT sum(line_count), sum(billed_cost) FROM spend_daily") == [(2, 3.75)]

    FIXTURES["azure_ea"].write(tmp_path / "azure", GOOD_DAY)
    run_in_process(load_config(config))
    assert check(config, "no_quarantined_input", "cost_lines")[0] is True
    assert sql(config, "SELECT status FROM ingest_log WHERE source = 'azure' AND location = 'azure/*.csv' "
                       "ORDER BY loaded_at DESC LIMIT 1") == [("removed",)]
    assert sql(config, "SELECT sum(billed_cost) FROM spend_daily") == sql(config, "SELECT sum(BilledCost) FROM cost_lines")


def test_a_row_outside_the_day_in_the_file_name_reaches_the_marts(tmp_path):
    """`usage-2025-04-01.csv` holding a 2025-04-02 row: loaded, in the marts, the ROI check passes, exit 0."""
    (tmp_path / "usage").mkdir()
    (tmp_path / "usage" / "usage-2025-04-01.csv").write_text(
        "timestamp,provider,model,input_tokens,output_tokens,task\n"
        "2025-04-01T10:00:00Z,openai,gpt-4o-mini,1000,100,summarize\n"
        "2025-04-02T09:30:00Z,openai,gpt-4o-mini,2000,200,summarize\n")
    (tmp_path / "tasks.yaml").write_text(
        "tasks:\n  - {task: summarize, human_minutes: 5, hourly_rate_usd: 60}\n")
    config = tmp_path / "aispend.yaml"
    config.write_text(json.dumps({"warehouse": "wh/aispend.duckdb", "start_date": "2025-03-01",
                                  "task_catalog": "tasks.yaml",
                                  "sources": [{"name": "usage", "kind": "usage_csv", "path": "usage/*.csv"}]}))
    done = run(config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sql(config, "SELECT day, requests, input_tokens FROM usage_daily ORDER BY day") == [
        (date(2025, 4, 1), 1, 1000), (date(2025, 4, 2), 1, 2000)]
    assert sql(config, "SELECT sum(runs), sum(requests) FROM task_daily") == [(2, 2)]
    assert sql(config, "SELECT requests FROM task_roi WHERE task = 'summarize'") == [(2,)]
    assert check(config, "accounts_for_all_usage", "task_roi")[0] is True


def _verdict(config_path: Path, name: str, asset: str) -> bool:
    return check(config_path, name, asset)[0]


def test_a_refused_file_that_is_deleted_is_no_longer_owed(tmp_path):
    """In process (the same plan): a quarantined file fails the check on every run until it leaves its source;
    the next run then records it `removed`, even when nothing else is new."""
    focus = FIXTURES["focus"]
    folder = tmp_path / "billing"
    folder.mkdir()
    focus.write(folder, GOOD_DAY)
    bad = focus.write(folder, GOOD_DAY.replace(day=5), [{**r, "BilledCost": "NaN"} for r in focus.rows(GOOD_DAY)])
    (tmp_path / "tasks.yaml").write_text("tasks: [{task: t, human_minutes: one, hourly_rate_usd: 60}]\n")
    path = tmp_path / "aispend.yaml"
    path.write_text(config_text([focus.source("billing", folder)], task_catalog="tasks.yaml"))
    config = load_config(path)
    try:
        run_in_process(config)
    except Exception:  # the bad catalog stops its step (StepFailure), as it stops a Dagster run
        pass
    (tmp_path / "tasks.yaml").write_text("tasks: [{task: t, human_minutes: 1, hourly_rate_usd: 60}]\n")
    for _ in range(2):
        run_in_process(config)
        assert _verdict(path, "no_quarantined_input", "cost_lines") is False
    assert _verdict(path, "no_quarantined_input", "tasks") is True  # the fixed catalog loaded
    bad.unlink()
    run_in_process(config)
    assert _verdict(path, "no_quarantined_input", "cost_lines") is True
    assert sql(path, "SELECT status FROM ingest_log WHERE location = 'focus-2026-10-05.csv' "
                     "ORDER BY loaded_at DESC LIMIT 1") == [("removed",)]


def test_a_copied_project_reads_nothing_again_in_either_copy(tmp_path):
    """The whole project folder (config, files, warehouse) copied elsewhere: a run in the copy and a run in the
    original both find every unit unchanged, and their totals are the first run's (nothing doubled)."""
    original = generate_demo(tmp_path / "demo", days=4, events_target=800, end_date=date(2026, 11, 15))
    run_in_process(load_config(original))
    first = sql(original, "SELECT (SELECT count(*) FROM cost_lines), (SELECT sum(BilledCost) FROM cost_lines), "
                          "(SELECT sum(request_count) FROM usage_events), (SELECT sum(billed_cost) FROM spend_daily)")
    copy = tmp_path / "elsewhere" / "demo"
    shutil.copytree(original.parent, copy)
    for config in (copy / "aispend.yaml", original):
        results = run_in_process(load_config(config))
        assert {r.status for r in results if r.source != "task_catalog"} == {"unchanged"}, results
        assert sql(config, "SELECT (SELECT count(*) FROM cost_lines), (SELECT sum(BilledCost) FROM cost_lines), "
                           "(SELECT sum(request_count) FROM usage_events), (SELECT sum(billed_cost) FROM spend_daily)"
                   ) == first
