"""The Evidence page in Debian's Chromium over the demo's snapshot: every verdict shows, each as the mart says;
a click drills into a task (its design and caveat, the minutes box, the weekly medians, quality); the CSV is the
table; the team filter applies. Tasks and Overview mark what is measured and what is estimated, and the
Overview's measured part equals plain SQL over the snapshot files."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.support.browser import SLOW_MS, artifacts_dir, chromium, dash_server, open_page

VERDICT_LABELS = {"saves_time": "saves time", "costs_time": "costs time",
                  "no_measurable_difference": "no measurable difference",
                  "insufficient_evidence": "insufficient evidence"}


def _sql(statement: str, params: list) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(statement, params).fetchall()


@pytest.fixture(scope="module")
def snapshot(evidence_demo) -> Path:
    return evidence_demo.snapshot_path


@pytest.fixture(scope="module")
def base_url(snapshot, tmp_path_factory):
    with dash_server(snapshot, log_dir=tmp_path_factory.mktemp("evidence-dash-log"), workers=0) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


def _csv_button(table: str) -> str:
    return "button[id='" + json.dumps({"table": table, "type": "csv-button"}, separators=(",", ":")) + "']"


def test_the_evidence_page_shows_every_verdict_and_drills_into_a_task(snapshot, base_url, browser, tmp_path):
    expected = dict(_sql("SELECT task, verdict FROM read_parquet(?) WHERE grain = 'task' ORDER BY task",
                         [str(snapshot / "task_evidence.parquet")]))
    assert set(expected.values()) == set(VERDICT_LABELS)
    page, console = open_page(browser)
    page.goto(base_url + "/evidence")
    page.wait_for_selector("#table-evidence tbody tr")
    rows = page.locator("#table-evidence tbody tr")
    assert [rows.nth(i).get_attribute("data-key") for i in range(rows.count())] == sorted(expected)
    for i in range(rows.count()):
        task = rows.nth(i).get_attribute("data-key")
        assert rows.nth(i).locator(".badge.verdict").inner_text().strip() == VERDICT_LABELS[expected[task]], task
    page.wait_for_selector("#evidence-chart-saved .main-svg")
    assert "with its 95% interval (Welch's t)" in page.inner_text("#evidence-chart-saved")
    page.screenshot(path=str(artifacts_dir(tmp_path) / "evidence.png"), full_page=True)

    # The CSV is the table, every column of task_evidence.
    with page.expect_download(timeout=SLOW_MS) as info:
        page.click(_csv_button("evidence"))
    records = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert [(r["task"], r["verdict"]) for r in records] == sorted(expected.items())
    assert {"minutes_saved_low", "minutes_saved_high", "method", "interval_method"} <= set(records[0])

    # A click drills into one task: verdict, design with its caveat, both charts, quality.
    page.get_by_role("link", name="contract_summary", exact=True).click()
    page.wait_for_function("() => location.search.includes('task=contract_summary')")
    page.wait_for_selector("#evidence-drill")
    assert "saves time" in page.inner_text("#evidence-drill")
    assert page.inner_text("#evidence-caveat").startswith("Design: Before/after")
    page.wait_for_selector("#evidence-chart-box .main-svg")
    page.wait_for_selector("#evidence-chart-weekly .main-svg")
    assert "hands-on minutes per item" in page.inner_text("#evidence-chart-box")
    assert "weekly median minutes" in page.inner_text("#evidence-chart-weekly")
    page.wait_for_selector("#table-evidence_quality")
    page.screenshot(path=str(artifacts_dir(tmp_path) / "evidence-contract_summary.png"), full_page=True)

    # A task that is faster but reopens more: its quality table says so.
    page.goto(base_url + "/evidence?task=support_reply_draft")
    page.wait_for_selector("#table-evidence_quality tbody tr")
    assert "Measurably worse with AI: reopened" in page.inner_text("body")
    assert page.locator("#table-evidence_quality tbody tr").first.get_attribute("data-key") == "reopened, % of items"

    # The team filter, from the address: that team's rows.
    team_rows = _sql("SELECT task FROM read_parquet(?) WHERE grain = 'task_team' AND team = 'support' ORDER BY task",
                     [str(snapshot / "task_evidence.parquet")])
    page.goto(base_url + "/evidence?team=support")
    page.wait_for_function("(n) => document.querySelectorAll('#table-evidence tbody tr').length === n",
                           arg=len(team_rows), timeout=SLOW_MS)
    rows = page.locator("#table-evidence tbody tr")
    assert [rows.nth(i).get_attribute("data-key") for i in range(rows.count())] == [t for (t,) in team_rows]
    console.assert_clean()


def _measured_savings(snapshot: Path, start: date, end: date) -> float:
    """The Overview's measured part from the files: per measured task, the period's AI-assisted items x minutes
    saved x hourly rate - the period's allocated AI cost - review of the period's runs."""
    return _sql(
        """
        WITH e AS (SELECT task, minutes_saved FROM read_parquet(?) WHERE grain = 'task'
                   AND verdict <> 'insufficient_evidence' AND minutes_basis = 'handling'),
             i AS (SELECT task, count(*) AS items FROM read_parquet(?) WHERE ai_assisted AND minutes IS NOT NULL
                   AND day BETWEEN ? AND ? GROUP BY task),
             d AS (SELECT task, sum(runs) AS runs, sum(allocated_cost_usd) AS cost FROM read_parquet(?)
                   WHERE day BETWEEN ? AND ? GROUP BY task)
        SELECT sum(coalesce(i.items, 0) * e.minutes_saved / 60 * c.hourly_rate_usd - d.cost
                   - d.runs * c.review_minutes / 60 * c.hourly_rate_usd)
        FROM e JOIN d USING (task) JOIN read_parquet(?) c USING (task) LEFT JOIN i USING (task)
        """,
        [str(snapshot / "task_evidence.parquet"), str(snapshot / "evidence_items.parquet"), start, end,
         str(snapshot / "task_daily.parquet"), start, end, str(snapshot / "tasks.parquet")],
    )[0][0]


def _amount(text: str) -> float | None:
    """A shown amount ("-$26,549.01", "352%") as a number; None for "—"."""
    text = text.strip().replace("$", "").replace(",", "").replace("%", "")
    return None if text in ("", "—") else float(text)


def _each_row_adds_up(page) -> None:
    """Read as a finance lead reads the Tasks table: on every row, measured or estimated, human cost avoided less
    allocated AI cost and review is the net savings shown, and ROI is that net over cost and review."""
    headers = page.locator("#table-tasks thead th").all_inner_texts()
    at = {name: headers.index(name) for name in
          ("AI cost (allocated)", "Human cost avoided", "Review cost", "Net savings", "ROI")}
    checked = set()
    for row in page.locator("#table-tasks tbody tr").all():
        cells = [_amount(text) for text in row.locator("td").all_inner_texts()[1:]]
        cost, avoided, review, net, roi = (cells[at[name] - 1] for name in at)
        if cost is None:
            continue
        assert avoided - cost - review == pytest.approx(net, abs=0.02)
        assert roi == pytest.approx(100 * net / (cost + review), abs=0.51)
        checked.add(row.get_attribute("data-key"))
    assert {"sql_generation", "internal_chat"} <= checked


def test_tasks_and_overview_say_what_is_measured(snapshot, base_url, browser, tmp_path):
    page, console = open_page(browser)
    page.goto(base_url + "/tasks")
    page.wait_for_selector("#table-tasks tbody tr")
    sql_row = page.locator("#table-tasks tbody tr[data-key='sql_generation']")
    assert "measured" in sql_row.locator(".badge.basis").inner_text() and "loses money" in sql_row.inner_text()
    assert "break-even" in sql_row.inner_text()
    assert page.locator("#table-tasks tbody tr[data-key='internal_chat'] .badge.basis").inner_text() == "estimate"
    _each_row_adds_up(page)
    page.screenshot(path=str(artifacts_dir(tmp_path) / "tasks-measured.png"), full_page=True)

    page.goto(base_url + "/?start=2026-10-17&end=2026-11-15")
    page.wait_for_selector("#overview-net-savings-measured")
    measured = _measured_savings(snapshot, date(2026, 10, 17), date(2026, 11, 15))
    text = page.inner_text("#overview-net-savings-measured")
    assert text.startswith(("-" if measured < 0 else "") + f"${abs(measured):,.2f} measured from work records")
    assert "estimated from the catalog" in page.inner_text("#overview-net-savings-estimated")
    page.screenshot(path=str(artifacts_dir(tmp_path) / "overview-measured.png"), full_page=True)
    console.assert_clean()
