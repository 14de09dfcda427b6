"""Bad requests and a stop, tried on purpose: every page answers dates no calendar view can show with a note,
hostile or mistyped URLs get a 4xx with nothing in the log, the Data health page shows every check's verdict
(what, since when, why), and Ctrl+C stops the served dashboard without its workers being killed.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import dash
import duckdb
import pytest

from dashboard.app import create_app
from tests.support.browser import artifacts_dir, chromium, dash_server, free_port, open_page, wait_for_http
from tests.support.snapshots import write_snapshot

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    return write_snapshot(tmp_path_factory.mktemp("dash-faults"))


@pytest.fixture(scope="module")
def app(snapshot):
    return create_app(snapshot)


def _csv_request(table: str) -> dict:
    """What a CSV button's click posts, naming `table`."""
    return {"output": '{"table":["MATCH"],"type":"csv-download"}.data',
            "outputs": {"id": {"table": table, "type": "csv-download"}, "property": "data"},
            "inputs": [{"id": {"table": table, "type": "csv-button"}, "property": "n_clicks", "value": 1}],
            "changedPropIds": ['{"table":"%s","type":"csv-button"}.n_clicks' % table],
            "state": [{"id": "aispend-url", "property": "search", "value": ""}]}


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("get", "/_dash-component-suites/dash/../../../../etc/passwd", None, 404),
    ("get", "/_dash-component-suites/dash/..%2f..%2f..%2fetc%2fpasswd", None, 404),
    ("get", "/_dash-component-suites/not_a_package/x.js", None, 404),
    ("get", "/_dash-component-suites/dash/dcc/not-a-file.js", None, 404),
    ("post", "/_dash-update-component", _csv_request("no_such_table"), 400),
    ("post", "/_dash-update-component", {"output": "nothing.children", "inputs": []}, 400),
    ("post", "/_dash-update-component", "not json", 400),
])
def test_bad_requests_get_a_4xx_and_no_traceback(app, caplog, method, path, body, status):
    client = app.server.test_client()
    with caplog.at_level(logging.DEBUG):
        if method == "get":
            response = client.get(path)
        elif isinstance(body, dict):
            response = client.post(path, json=body)
        else:
            response = client.post(path, data=body)
    assert response.status_code == status
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_known_table_still_downloads(app):
    response = app.server.test_client().post("/_dash-update-component", json=_csv_request("sources"))
    assert response.status_code == 200 and b"source,kind" in response.data


@pytest.mark.parametrize("query", [{"end": "0001-01-01"}, {"start": "0001-01-01"},
                                   {"start": "9999-12-31", "end": "9999-12-31"}, {"start": "2026-02-30"}])
def test_every_page_answers_impossible_dates_with_a_note(app, query):
    """`?end=0001-01-01` overflowed the previous period's arithmetic: HTTP 500 on every page."""
    with app.server.test_request_context("/"):
        for page in dash.page_registry.values():
            text = str(importlib.import_module(page["module"]).layout(**query))
            assert "outside 2000-01-01 .. 2100-12-31" in text or "could not be read" in text, page["path"]


def test_health_page_shows_each_check_with_when_and_why(snapshot, tmp_path):
    with chromium() as browser, dash_server(snapshot, log_dir=tmp_path) as url:
        page, console = open_page(browser)
        page.goto(url + "/health")
        page.wait_for_selector("#table-checks tbody tr")
        rows = [r.split("\t") for r in page.inner_text("#table-checks tbody").splitlines()]
        assert rows[0][:2] == ["FAILED", "cost_lines:no_null_cost_on_usage_lines"]
        assert "lack a cost their export provides" in rows[0][2] and rows[0][3] == "2"
        assert rows[0][4] == "failing since 2026-03-30 06:00 UTC" and rows[0][5] == "2026-04-01 06:00 UTC"
        assert {r[1]: r[0] for r in rows[1:]} == {"cost_lines:one_currency_per_account": "passed",
                                                  "usage_events:price_coverage": "passed"}
        assert "1 check(s) FAILED" in page.inner_text("#health-checks-banner")
        page.click("#health-details-cost_lines-no_null_cost_on_usage_lines summary")
        assert "2026-03/focus.csv" in page.inner_text("#health-details-cost_lines-no_null_cost_on_usage_lines")
        page.screenshot(path=str(artifacts_dir(tmp_path) / "health-checks.png"), full_page=True)
        console.assert_clean()
    with duckdb.connect() as con:  # what the page shows is what the snapshot holds
        failing = con.execute("SELECT count(*) FROM read_parquet(?) WHERE NOT passed",
                              [str(snapshot / "check_results.parquet")]).fetchone()[0]
    assert failing == 1


def test_ctrl_c_stops_the_dashboard_without_killing_its_workers(snapshot, tmp_path):
    """Ctrl+C (SIGINT to the process group) after the workers served data pages: every worker exits on its own.
    They used to hang in the interpreter's shutdown until gunicorn killed them at its 10 s graceful timeout."""
    port = free_port()
    config = tmp_path / "aispend.yaml"
    config.write_text(f"warehouse: {tmp_path / 'unused.duckdb'}\nsnapshot_dir: {snapshot}\n")
    log = tmp_path / "dashboard.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "dashboard", "--config", str(config),
                                   "--port", str(port), "--workers", "2"], cwd=REPO, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/_dash-layout", 120, server)
        with chromium() as browser:
            page, _ = open_page(browser)
            for path in ("/", "/health", "/tasks"):
                page.goto(url + path)
                page.wait_for_selector(".table, .js-plotly-plot, #empty-state")
        os.killpg(server.pid, signal.SIGINT)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    assert "SIGKILL" not in log.read_text(errors="replace"), log.read_text(errors="replace")
