"""Over a small demo warehouse: chargeback adds up to each month's AI spend to the cent under every rule (plain
SQL over allocated_cost), `aispend export chargeback` writes files plain DuckDB reads back, and the monthly
report renders in Chromium with no console error and no request leaving the file (screenshot kept)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from pipelines import marts
from pipelines.cli import main
from pipelines.config import load_config
from pipelines.demo import generate_demo
from pipelines.finance.money import money
from pipelines.plan import run_in_process
from tests.support.browser import artifacts_dir, chromium, open_page
from warehouse.db import connect_writer


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("finance")
    path = generate_demo(root / "demo", days=50, events_target=4_000, end_date=date(2026, 11, 15))
    run_in_process(load_config(path))
    return path


def month_spend(db) -> dict:
    """Each month's AI spend by plain SQL: allocated_cost's billed cost plus the seats and overage no loaded bill
    carries (person_monthly.not_on_bills_usd), rounded to the cent once."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.sql("""
            SELECT month, CAST(round(sum(cost), 2) AS DECIMAL(18, 2)) FROM (
                SELECT CAST(date_trunc('month', day) AS DATE) AS month, billed_cost_usd AS cost FROM allocated_cost
                UNION ALL
                SELECT month, not_on_bills_usd FROM person_monthly WHERE not_on_bills_usd IS NOT NULL)
            GROUP BY 1""").fetchall())
    finally:
        con.close()


@pytest.mark.parametrize("rule", ["proportional", "even", "owner"])
def test_chargeback_adds_up_to_the_month_to_the_cent(demo, rule):
    config = load_config(demo)
    rules = config.finance.chargeback.model_copy(update={"rule": rule, "owner": "platform"})
    config = config.model_copy(update={"finance": config.finance.model_copy(update={"chargeback": rules})})
    con = connect_writer(config.warehouse_path)
    try:
        marts.build(con, config, "chargeback")
        got = dict(con.sql("SELECT month, sum(total_cost) FROM chargeback GROUP BY 1").fetchall())
        parts = con.sql("SELECT count(*) FROM chargeback WHERE direct_cost + seats_cost + shared_cost <> total_cost"
                        ).fetchone()[0]
        rules_seen = con.sql("SELECT DISTINCT rule FROM chargeback").fetchall()
    finally:
        con.close()
    want = month_spend(config.warehouse_path)
    assert len(want) >= 2 and got == want  # DECIMAL sums: exact, not approximately
    con = connect_writer(config.warehouse_path)
    try:  # the demo's seats reach chargeback (the seats column), not only budgets
        seats = con.sql("SELECT sum(seats_cost) FROM chargeback").fetchone()[0]
    finally:
        con.close()
    assert seats and seats > 0
    assert parts == 0 and rules_seen == [(rule,)]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_files_open_with_plain_duckdb(demo, tmp_path, fmt):
    out = tmp_path / f"october.{fmt}"
    assert main(["export", "chargeback", "--month", "2026-10", "--format", fmt, "--out", str(out),
                 "--config", str(demo)]) == 0
    reader = "read_csv" if fmt == "csv" else "read_parquet"
    teams, total, columns = duckdb.sql(
        f"SELECT count(*), sum(CAST(total_cost AS DECIMAL(18, 2))), list(DISTINCT currency) FROM {reader}('{out}')"
    ).fetchone()
    header = [d[0] for d in duckdb.sql(f"SELECT * FROM {reader}('{out}')").description]
    assert header[:7] == ["month", "team", "cost_center", "direct_cost", "seats_cost", "shared_cost", "total_cost"]
    assert "currency" in header and columns == ["USD"]
    assert total == month_spend(load_config(demo).warehouse_path)[date(2026, 10, 1)] and teams >= 2
    assert main(["export", "chargeback", "--month", "2031-01", "--out", str(tmp_path / "none.csv"),
                 "--config", str(demo)]) == 1  # no such month: nothing written
    assert not (tmp_path / "none.csv").exists()


def test_monthly_report_renders_offline_with_no_console_error(demo, tmp_path):
    assert main(["close", "2026-10", "--config", str(demo), "--by", "Dana"]) == 0
    out = tmp_path / "report.html"
    assert main(["report", "--month", "2026-10", "--out", str(out), "--config", str(demo)]) == 0
    html = out.read_text()
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    total = month_spend(load_config(demo).warehouse_path)[date(2026, 10, 1)]
    requests: list[str] = []
    with chromium() as browser:
        page, console = open_page(browser, width=1000, height=1200)
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.resolve().as_uri())
        page.wait_for_selector("svg")
        page.screenshot(path=str(artifacts_dir(tmp_path) / "monthly-report-2026-10.png"), full_page=True)
        assert page.locator("svg").count() == 2
        assert page.inner_text("h1") == "AI spend report: October 2026"
        assert "Closed by Dana" in page.inner_text("header")
        chargeback_total = page.locator("section", has_text="Chargeback").locator("tr.total td").last.inner_text()
        assert chargeback_total == money(float(total), "USD")
        page.emulate_media(media="print")
        assert page.evaluate("document.body.scrollHeight") > 1000
        console.assert_clean()
    assert requests == [out.resolve().as_uri()]  # the file itself, nothing else
    assert Decimal(str(total)) > 0
