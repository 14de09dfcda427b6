"""The product as a newcomer meets it: demo data, `aispend run`, then the dashboard in a real browser.

The headline billed spend the page shows must equal plain SQL over the warehouse's cost_lines, and a second
run over the same inputs must leave every total unchanged.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.demo import generate_demo
from tests.support.browser import artifacts_dir, chromium, dash_server, free_port, open_page, wait_for_http
from tests.support.browser import wait_text
from tests.support.fx import billed_usd

REPO = Path(__file__).resolve().parents[2]


def warehouse_totals(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(
            "SELECT (SELECT round(sum(BilledCost), 6) FROM cost_lines), (SELECT round(sum(EffectiveCost), 6) FROM cost_lines),"
            " (SELECT count(*) FROM cost_lines), (SELECT sum(request_count) FROM usage_events),"
            " (SELECT round(sum(cost_usd), 6) FROM usage_events), (SELECT round(sum(net_savings_usd), 6) FROM task_roi)"
        ).fetchone()
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    config = generate_demo(root / "demo", days=21, events_target=4_000, end_date=date(2026, 11, 15))
    cli = [sys.executable, "-m", "pipelines.cli", "run", "--config", str(config)]
    first = subprocess.run(cli, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert first.returncode == 0, first.stderr[-4000:]
    db = root / "demo" / "warehouse" / "aispend.duckdb"
    totals_first = warehouse_totals(db)
    second = subprocess.run(cli, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert second.returncode == 0, second.stderr[-4000:]
    return root / "demo", db, totals_first, warehouse_totals(db), first.stderr


def test_run_prints_progress_and_totals(demo_run):
    _, db, totals, _, stderr = demo_run
    assert re.search(r"running \d+ assets", stderr)
    con = duckdb.connect(str(db), read_only=True)
    lines = con.sql("SELECT BillingCurrency, ChargePeriodStart, BilledCost, EffectiveCost, ListCost, ContractedCost "
                    "FROM cost_lines").pl()
    con.close()
    assert set(lines["BillingCurrency"]) == {"EUR", "USD"}  # the demo's Azure account bills in euros
    assert f"billed ${billed_usd(lines):,.2f} USD" in stderr  # each line at its charge day's ECB rate
    assert "lines in 2 currencies" in stderr
    assert "price coverage" in stderr and "unpriced, not counted as $0" in stderr


def test_second_run_changes_nothing(demo_run):
    _, _, first, second, _ = demo_run
    assert first == second


def test_dashboard_headline_equals_warehouse(demo_run, tmp_path):
    root, db, _, _, _ = demo_run
    con = duckdb.connect(str(db), read_only=True)
    first_day, last_day, billed = con.sql(
        "SELECT min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE, sum(BilledCost) FROM cost_lines "
        "WHERE BillingCurrency = 'USD'"
    ).fetchone()
    window = con.sql(
        "SELECT sum(BilledCost) FROM cost_lines WHERE BillingCurrency = 'USD' "
        "AND ChargePeriodStart::DATE BETWEEN ? AND ?", params=[date(2026, 11, 1), last_day]
    ).fetchone()[0]
    con.close()
    with chromium() as browser, dash_server(root / "warehouse" / "snapshot", log_dir=tmp_path) as url:
        page, console = open_page(browser)
        page.goto(f"{url}/?start={first_day}&end={last_day}")
        wait_text(page, "#overview-billed-value-USD", f"${billed:,.2f}")
        page.goto(f"{url}/?start=2026-11-01&end={last_day}")
        wait_text(page, "#overview-billed-value-USD", f"${window:,.2f}")
        page.screenshot(path=str(artifacts_dir(tmp_path) / "e2e-overview.png"), full_page=True)
        page.goto(f"{url}/tasks?start={first_day}&end={last_day}")
        page.wait_for_selector("#table-tasks tbody tr")
        assert page.locator("#table-tasks tbody tr").count() >= 12
        page.screenshot(path=str(artifacts_dir(tmp_path) / "e2e-tasks.png"), full_page=True)
        console.assert_clean()


def test_demo_command_serves_data_after_running_the_pipeline(demo_run, tmp_path):
    """`aispend demo` runs the pipeline and then serves, as `make demo` does: the served pages must draw data.

    The pipeline leaves thread pools (Polars, DuckDB) in the process; gunicorn workers forked from it hung on
    their first data callback, so this goes through the real command, not `aispend dashboard`.
    """
    root, db, _, _, _ = demo_run
    con = duckdb.connect(str(db), read_only=True)
    first_day, last_day, billed = con.sql(
        "SELECT min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE, sum(BilledCost) FROM cost_lines "
        "WHERE BillingCurrency = 'USD'"
    ).fetchone()
    con.close()
    port = free_port()
    log_path = tmp_path / "demo-command.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "demo", "--out", str(root), "--port", str(port)],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/_dash-layout", 300, process)
        with chromium() as browser:
            page, console = open_page(browser)
            page.goto(f"{url}/?start={first_day}&end={last_day}")
            wait_text(page, "#overview-billed-value-USD", f"${billed:,.2f}")
            page.goto(f"{url}/tasks?start={first_day}&end={last_day}")
            page.wait_for_selector("#table-tasks tbody tr")
            console.assert_clean()
    except Exception as exc:
        raise AssertionError(f"{exc}\n--- aispend demo log ---\n{log_path.read_text(errors='replace')[-4000:]}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
