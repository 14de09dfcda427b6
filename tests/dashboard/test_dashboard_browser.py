"""The real dashboard in Debian's Chromium: numbers on the pages equal plain SQL over the snapshot files.

Expected figures come from DuckDB SQL written here, and are formatted here, independently of dashboard code.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.support.browser import SLOW_MS, artifacts_dir, chromium, dash_server, open_page, wait_text
from tests.support.snapshots import write_snapshot

DEFAULT = (date(2026, 3, 2), date(2026, 3, 31))  # the last 30 days of the hand-made data


def usd(value: float) -> str:
    return ("-" if value < 0 else "") + f"${abs(value):,.2f}"


def sql_row(statement: str, params: list) -> tuple:
    with duckdb.connect() as con:
        return con.execute(statement, params).fetchone()


def billed_usd(snapshot: Path, start: date, end: date, provider: str | None = None) -> tuple[float, float]:
    """`provider` as the invoice names it (the page filters by the genai-prices id it maps to)."""
    return sql_row(
        "SELECT sum(billed_cost), sum(billed_cost) FILTER (WHERE is_ai) FROM read_parquet(?) "
        "WHERE billing_currency = 'USD' AND day >= ? AND day <= ? AND (? IS NULL OR provider = ?)",
        [str(snapshot / "spend_daily.parquet"), start, end, provider, provider],
    )


def expected_tasks(snapshot: Path, start: date, end: date, team: str | None = None) -> list[tuple[str, float | None]]:
    """(task, net savings on allocated cost) best first, straight from task_daily and the catalog."""
    with duckdb.connect() as con:
        return con.execute(
            """
            WITH t AS (
                SELECT task, sum(runs) AS runs, sum(successes) AS successes, sum(allocated_cost_usd) AS ai
                FROM read_parquet(?) WHERE day >= ? AND day <= ? AND (? IS NULL OR team = ?) GROUP BY task)
            SELECT t.task,
                   coalesce(t.successes * c.human_minutes / 60 * c.hourly_rate_usd, 0) - t.ai
                   - coalesce(t.runs * c.review_minutes / 60 * c.hourly_rate_usd, 0) AS net
            FROM t LEFT JOIN read_parquet(?) c USING (task)
            WHERE t.runs > 0
            ORDER BY net DESC NULLS LAST, t.task
            """,
            [str(snapshot / "task_daily.parquet"), start, end, team, team, str(snapshot / "tasks.parquet")],
        ).fetchall()


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    return write_snapshot(tmp_path_factory.mktemp("dash-browser"))


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def base_url(snapshot, tmp_path_factory):
    with dash_server(snapshot, log_dir=tmp_path_factory.mktemp("dash-log")) as url:
        yield url


def test_overview_headline_follows_the_period(snapshot, base_url, browser, tmp_path):
    started = time.monotonic()
    page, console = open_page(browser)
    page.goto(base_url + "/")

    billed, ai = billed_usd(snapshot, *DEFAULT)
    wait_text(page, "#overview-billed-value-USD", usd(billed))
    previous, _ = billed_usd(snapshot, date(2026, 1, 31), date(2026, 3, 1))
    assert usd(previous) in page.inner_text("#overview-previous-USD")
    eur = sql_row(
        "SELECT sum(billed_cost) FROM read_parquet(?) WHERE billing_currency = 'EUR' AND day >= ? AND day <= ?",
        [str(snapshot / "spend_daily.parquet"), *DEFAULT],
    )[0]
    assert page.inner_text("#overview-billed-value-EUR").strip() == f"€{eur:,.2f}"  # as billed, never added to USD
    # Every bill in the reporting currency (USD): the euros at the snapshot's rate (1.25), all of them AI.
    assert page.inner_text("#overview-billed-value-reporting").strip() == usd(billed + eur * 1.25)
    assert page.inner_text("#overview-ai-share").strip() == f"{(ai + eur * 1.25) / (billed + eur * 1.25) * 100:.1f}%"
    # The open month: invoiced so far and, apart, the expected rest (22 + 10 in the snapshot's month_to_date).
    assert page.inner_text("#overview-mtd-expected").strip() == usd(32.0)
    assert page.inner_text("#overview-mtd-invoiced").strip() == usd(100.0)
    requests, unpriced, cost = sql_row(
        "SELECT sum(requests), sum(unpriced_requests), sum(cost_usd) FROM read_parquet(?) WHERE day >= ? AND day <= ?",
        [str(snapshot / "usage_daily.parquet"), *DEFAULT],
    )
    assert page.inner_text("#overview-requests").strip() == f"{requests:,}"
    assert page.inner_text("#overview-priced-cost").strip() == usd(cost)
    assert page.inner_text("#overview-coverage").strip() == f"{(requests - unpriced) / requests * 100:.1f}%"
    assert "NOT counted as $0" in page.inner_text("body")
    page.wait_for_selector("#overview-spend-chart .main-svg")
    assert "Daily billed cost (cash), USD" in page.inner_text("#overview-spend-chart")
    page.screenshot(path=str(artifacts_dir(tmp_path) / "overview.png"), full_page=True)

    # A period in the address (a shared link) ...
    page.goto(base_url + "/?start=2026-01-01&end=2026-01-31")
    wait_text(page, "#overview-billed-value-USD", usd(billed_usd(snapshot, date(2026, 1, 1), date(2026, 1, 31))[0]))

    # ... a preset on the date control, then the provider dropdown, each rewriting the address.
    page.get_by_role("link", name="Last 7 days").click()
    page.wait_for_function("() => location.search.includes('start=2026-03-25&end=2026-03-31')")
    wait_text(page, "#overview-billed-value-USD", usd(billed_usd(snapshot, date(2026, 3, 25), date(2026, 3, 31))[0]))
    page.click("#overview-provider")
    page.get_by_role("option", name="OpenAI").click()
    page.wait_for_function("() => location.search.includes('provider=openai')")
    wait_text(
        page,
        "#overview-billed-value-USD",
        usd(billed_usd(snapshot, date(2026, 3, 25), date(2026, 3, 31), "OpenAI")[0]),
    )
    print(f"overview browser test: {time.monotonic() - started:.1f} s")
    console.assert_clean()


def test_tasks_table_matches_sql_and_downloads(snapshot, base_url, browser, tmp_path):
    started = time.monotonic()
    page, console = open_page(browser)
    page.goto(base_url + "/tasks")
    page.wait_for_selector("#table-tasks tbody tr")
    want = expected_tasks(snapshot, *DEFAULT)
    rows = page.locator("#table-tasks tbody tr")
    assert [rows.nth(i).get_attribute("data-key") for i in range(rows.count())] == [t for t, _ in want]
    for i, (task, net) in enumerate(want):
        row = rows.nth(i)
        net_cell = row.locator("td").nth(8).inner_text().strip()
        assert net_cell == ("—" if net is None else usd(net)), task
        losing = net is not None and net < 0
        assert ("loss" in (row.get_attribute("class") or "")) == losing, task
        assert ("loses money" in row.inner_text()) == losing, task
    assert any(net is not None and net < 0 for _, net in want)  # the data has a losing task to show
    assert "unpriced requests are left out, not counted as $0" in page.inner_text("body")
    page.wait_for_selector("#tasks-net-savings-chart .main-svg")  # plotly draws after the table is in
    assert "allocated cost (invoice-true), USD" in page.inner_text("#tasks-net-savings-chart")
    page.screenshot(path=str(artifacts_dir(tmp_path) / "tasks.png"), full_page=True)

    with page.expect_download(timeout=SLOW_MS) as download_info:
        page.click(csv_button("tasks"))
    download = download_info.value
    assert download.suggested_filename == "aispend-tasks-2026-03-02-2026-03-31.csv"
    records = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert [r["task"] for r in records] == [t for t, _ in want]
    for record, (_, net) in zip(records, want):
        if net is None:
            assert record["allocated_net_savings_usd"] == ""
        else:
            assert float(record["allocated_net_savings_usd"]) == pytest.approx(net)

    # The team filter, from the address.
    page.goto(base_url + "/tasks?start=2026-03-31&end=2026-03-31&team=support")
    want = expected_tasks(snapshot, date(2026, 3, 31), date(2026, 3, 31), "support")
    page.wait_for_function(
        "(n) => document.querySelectorAll('#table-tasks tbody tr').length === n", arg=len(want), timeout=SLOW_MS
    )
    rows = page.locator("#table-tasks tbody tr")
    assert [rows.nth(i).get_attribute("data-key") for i in range(rows.count())] == [t for t, _ in want]
    assert [rows.nth(i).locator("td").nth(8).inner_text().strip() for i in range(rows.count())] == [
        usd(net) for _, net in want
    ]
    print(f"tasks browser test: {time.monotonic() - started:.1f} s")
    console.assert_clean()


def csv_button(table: str) -> str:
    """The CSS selector of a table's download button (Dash renders a dict id as sorted-key JSON)."""
    return "button[id='" + json.dumps({"table": table, "type": "csv-button"}, separators=(",", ":")) + "']"


PAGES = ["/", "/tasks", "/tasks?task=summarize_ticket", "/models", "/reconciliation", "/waste", "/health",
         "/evidence", "/evidence?task=draft_reply"]


def test_every_page_loads_clean_with_a_screenshot(base_url, browser, tmp_path):
    page, console = open_page(browser)
    for path in PAGES:
        page.goto(base_url + path)
        page.wait_for_selector(".page h1")
        page.wait_for_load_state("networkidle")
        assert "No data yet" not in page.inner_text(".page"), path
        name = path.strip("/").replace("?", "-").replace("=", "-") or "overview"
        page.screenshot(path=str(artifacts_dir(tmp_path) / f"{name}.png"), full_page=True)
    console.assert_clean()


def table_cells(page, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"#table-{table} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )


def test_waste_filter_and_csv_equal_sql(snapshot, base_url, browser, tmp_path):
    page, console = open_page(browser)
    page.goto(base_url + "/waste?start=2026-03-10&end=2026-03-19")
    page.wait_for_selector("#table-waste_summary tbody tr")
    spent = sql_row("SELECT sum(cost_usd) FROM read_parquet(?) WHERE NOT is_estimate AND day BETWEEN ? AND ?",
                    [str(snapshot / "waste.parquet"), date(2026, 3, 10), date(2026, 3, 19)])[0]
    wait_text(page, "#waste-spent", usd(spent))
    # the team filter through the dropdown rewrites the address and the numbers
    page.click("#waste-team")
    page.get_by_role("option", name="sales").click()
    page.wait_for_function("() => location.search.includes('team=sales')")
    wait_text(page, "#waste-spent", "$0.00")  # the hand-made waste is all team support
    page.goto(base_url + "/waste?start=2026-03-10&end=2026-03-19")
    page.wait_for_selector("#table-waste_summary tbody tr")
    shown = table_cells(page, "waste_summary")
    with page.expect_download(timeout=SLOW_MS) as info:
        page.click(csv_button("waste_summary"))
    records = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert len(records) == len(shown) == 2
    for record, cells in zip(records, shown):
        assert usd(float(record["cost_usd"])) == cells[4]
        assert f"{int(record['requests']):,}" == cells[2]

    page.goto(base_url + "/health")
    page.wait_for_selector("#table-quarantined tbody tr")
    assert "row 17, column BilledCost: not a number" in page.inner_text("#table-quarantined")
    # Closed months with what arrived since (the snapshot's February: two lines, +$6.50), and the euro bills
    # charged after the newest EUR rate (2026-03-20: 11 days).
    february = page.locator("#table-closed_months tbody tr", has_text="February 2026").inner_text()
    assert "Dana" in february and "$1,234.50" in february and "$6.50" in february
    assert page.locator("#table-changes_after_close tbody tr").count() == 2
    assert "11" in page.locator("#table-fx_coverage tbody tr", has_text="EUR").inner_text()
    console.assert_clean()


def test_pages_before_the_first_pipeline_run(browser, tmp_path):
    empty = tmp_path / "snapshot-not-written-yet"
    with dash_server(empty, log_dir=tmp_path) as url:
        page, console = open_page(browser)
        for path in ("/", "/tasks", "/models", "/reconciliation", "/waste", "/health", "/evidence"):
            page.goto(url + path)
            page.wait_for_selector("#empty-state")
            text = page.inner_text("#empty-state")
            assert "No data yet" in text and "aispend run --config" in text
        page.screenshot(path=str(artifacts_dir(tmp_path) / "no-data.png"), full_page=True)
        console.assert_clean()
