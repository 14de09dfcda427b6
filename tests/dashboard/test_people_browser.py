"""People & seats in Debian's Chromium over a warehouse the real pipeline built (tests/support/people_inputs.py):
the page's figures equal plain SQL over the person_monthly snapshot, a person's drill-down shows only their
months, and with privacy.pseudonymize_people on no page of the dashboard shows a configured name, email or login.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from pipelines.config import load_config
from pipelines.plan import run_in_process
from tests.support.browser import artifacts_dir, chromium, dash_server, open_page, wait_text
from tests.support.people_inputs import KEY, KEY_ENV, NAMES, SECRETS, write_people_inputs

PAGES = ["/", "/tasks", "/models", "/reconciliation", "/waste", "/people", "/health"]


def usd(value: float) -> str:
    return ("-" if value < 0 else "") + f"${abs(value):,.2f}"


def _built(root, pseudonymize: bool):
    mp = pytest.MonkeyPatch()
    mp.setenv(KEY_ENV, KEY)
    try:
        config = load_config(write_people_inputs(root, pseudonymize))
        run_in_process(config)
    finally:
        mp.undo()
    return config.snapshot_path


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def clear(tmp_path_factory):
    snap = _built(tmp_path_factory.mktemp("people") / "off", False)
    with dash_server(snap, log_dir=tmp_path_factory.mktemp("people-log")) as url:
        yield snap, url


def _expected(snap, start: date, end: date, person: str | None = None) -> tuple:
    """Seat cost, usage beyond seats, off-bill cost of the months the period touches, straight from the snapshot."""
    with duckdb.connect() as con:
        return con.execute(
            "SELECT sum(seat_cost_usd), sum(usage_cost_usd), sum(not_on_bills_usd) FROM read_parquet(?) "
            "WHERE month >= date_trunc('month', CAST(? AS DATE)) AND month <= ? AND (? IS NULL OR person = ?)",
            [str(snap / "person_monthly.parquet"), start, end, person, person]).fetchone()


def test_people_page_figures_equal_sql_and_drill_into_a_person(clear, browser, tmp_path):
    snap, url = clear
    # the only dated usage is on 2026-11-04: the default view is the 30 days to it, touching October and November
    end = date(2026, 11, 4)
    start = end - timedelta(days=29)
    seats, usage, off_bills = _expected(snap, start, end)
    page, console = open_page(browser)
    page.goto(url + "/people")
    wait_text(page, "#people-seats", usd(seats))
    assert page.inner_text("#people-usage").strip() == usd(usage)
    assert page.inner_text("#people-off-bills").strip() == usd(off_bills)
    # Bob's Copilot seat was never used since August: the one idle seat, on the page and on Waste
    idle = page.locator("#table-idle_seats tbody tr")
    assert idle.count() == 1 and NAMES[1] in idle.first.inner_text() and "never" in idle.first.inner_text()
    rows = {r.get_attribute("data-key"): r.inner_text() for r in page.locator("#table-people_spend tbody tr").all()}
    assert set(rows) == set(NAMES)
    ana_seats, ana_usage, _ = _expected(snap, start, end, NAMES[0])
    assert usd(ana_seats + (ana_usage or 0)) in rows[NAMES[0]]
    page.screenshot(path=str(artifacts_dir(tmp_path) / "people.png"), full_page=True)

    page.click(f"#table-people_spend tbody tr[data-key='{NAMES[0]}'] a")
    page.wait_for_selector("#people-drill")
    ledger = page.locator("#table-people_ledger tbody tr").all()
    assert ledger and all(NAMES[0] in row.inner_text() for row in ledger)
    wait_text(page, "#people-seats", usd(ana_seats))

    page.goto(url + "/waste")
    wait_text(page, "#waste-idle-seats", "1")
    console.assert_clean()


def test_with_the_switch_on_no_page_shows_a_name_email_or_login(tmp_path_factory, browser, tmp_path):
    snap = _built(tmp_path_factory.mktemp("people") / "on", True)
    with dash_server(snap, log_dir=tmp_path_factory.mktemp("people-log-on")) as url:
        page, console = open_page(browser)
        seen = []
        for path in PAGES:
            page.goto(url + path + "?start=2026-08-01&end=2026-11-30")
            page.wait_for_selector(".page")
            page.wait_for_load_state("networkidle")
            seen.append((path, page.content().lower()))
        page.goto(url + "/people?start=2026-08-01&end=2026-11-30")
        page.wait_for_selector("#table-people_spend tbody tr")
        people = page.locator("#table-people_spend tbody tr").all()
        keys = [row.get_attribute("data-key") for row in people]
        assert keys and all(k.startswith("p_") for k in keys)  # people are there, as pseudonyms
        page.goto(url + f"/people?person={keys[0]}&start=2026-08-01&end=2026-11-30")
        page.wait_for_selector("#people-drill")
        seen.append(("/people?person=", page.content().lower()))
        leaks = {(path, s) for path, html in seen for s in SECRETS if s.lower() in html}
        assert leaks == set()
        console.assert_clean()
