"""Asset checks over a hand-built warehouse: each passes on clean rows and fails, naming the rows, on bad ones."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

dg = pytest.importorskip("dagster")

from pipelines.defs import checks  # noqa: E402
from pipelines.defs.resources import AispendResource  # noqa: E402
from warehouse.db import connect_writer  # noqa: E402

NOW = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


@pytest.fixture
def warehouse(tmp_path):
    """(config path, an open writer); the writer is closed before a check runs."""
    config = tmp_path / "aispend.yaml"
    config.write_text(
        "warehouse: wh/aispend.duckdb\n"
        "sources:\n"
        "  - {name: cur, kind: focus, path: billing}\n"
        "  - {name: app, kind: otel_genai, path: logs}\n"
        "  - {name: gateway, kind: litellm_spend, path: gw}\n"
        "checks:\n"
        "  reconciliation_tolerance_pct: 5\n"
        "  min_price_coverage: 0.9\n"
        "  max_age_hours: 24\n"
    )
    return config, tmp_path / "wh" / "aispend.duckdb"


def _execute(db, statement: str, params=None) -> None:
    con = connect_writer(db)
    try:
        con.execute(statement, params or [])
    finally:
        con.close()


def _cost_line(db, line_id, account, currency, category="Usage", billed=1.0, effective=1.0, end=NOW, source="cur"):
    _execute(db, "INSERT INTO cost_lines (x_line_id, BillingAccountId, BillingCurrency, ChargeCategory, BilledCost,"
                 " EffectiveCost, ChargePeriodStart, ChargePeriodEnd, x_source, x_source_file)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'f.csv')",
             [line_id, account, currency, category, billed, effective, end - timedelta(hours=1), end, source])


def _event(db, source, tokens, cost, when=NOW, model="gpt-4o"):
    _execute(db, "INSERT INTO usage_events (event_time, provider, model, task, request_count, input_tokens,"
                 " cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, is_batch, status,"
                 " cost_usd, x_source, x_source_file) VALUES (?, 'openai', ?, 't', 1, ?, 0, 0, 0, 0, false, 'ok',"
                 " ?, ?, 'f')", [when, model, tokens, cost, source])


def _run(check, config_path):
    """Run one check as Dagster does, after the per-day usage sums it may read (source_daily) are rebuilt from the
    events, as the pipeline builds them before these checks."""
    from pipelines import marts
    from pipelines.config import load_config

    config = load_config(config_path)
    con = connect_writer(config.warehouse_path)
    try:
        marts.build(con, config, "source_daily")
    finally:
        con.close()
    return check(dg.build_asset_check_context(resources={"aispend": AispendResource(config_path=str(config_path))}))


def test_one_currency_per_account(warehouse):
    config, db = warehouse
    _cost_line(db, "1", "acct-1", "USD")
    _cost_line(db, "2", "acct-1", "USD")
    _cost_line(db, "3", "acct-2", "EUR")
    _cost_line(db, "4", None, "USD")
    ok = _run(checks.one_currency_per_account, config)
    assert ok.passed and ok.metadata["offending"].value == 0

    _cost_line(db, "5", "acct-2", "USD")
    _cost_line(db, "6", None, "GBP")
    bad = _run(checks.one_currency_per_account, config)
    assert not bad.passed and bad.severity == dg.AssetCheckSeverity.ERROR
    assert bad.metadata["offending"].value == 2
    table = bad.metadata["first_rows"].value
    assert "| acct-2 | EUR, USD | 2 |" in table and "| (no account: cur) | GBP, USD | 2 |" in table
    assert "acct-1" not in table


def test_no_null_cost_on_usage_lines(warehouse):
    config, db = warehouse
    _cost_line(db, "1", "a", "USD")
    _cost_line(db, "2", "a", "USD", category="Credit", billed=None)  # only usage lines must have costs
    assert _run(checks.no_null_cost_on_usage_lines, config).passed

    _cost_line(db, "3", "a", "USD", billed=None)
    _cost_line(db, "4", "a", "USD", effective=None)
    bad = _run(checks.no_null_cost_on_usage_lines, config)
    assert not bad.passed and bad.severity == dg.AssetCheckSeverity.ERROR
    assert bad.metadata["offending"].value == 2
    assert "| cur | f.csv | 3 |" in bad.metadata["first_rows"].value


def _reconciliation(db, provider, month, day, billed, logged):
    _execute(db, "INSERT INTO reconciliation (provider, model, month, day, billed_cost_usd, logged_cost_usd,"
                 " difference_usd) VALUES (?, 'm', ?, ?, ?, ?, ?)",
             [provider, month, day, billed, logged, billed - (logged or 0)])


def test_reconciliation_within_tolerance_rolls_days_up_to_the_month(warehouse):
    config, db = warehouse
    # openai 2025-07: day rows +10% and -8% of their own bill, but the month is 100 vs 99: 1%, within 5%.
    _reconciliation(db, "openai", "2025-07-01", "2025-07-01", 50.0, 45.0)
    _reconciliation(db, "openai", "2025-07-01", "2025-07-02", 50.0, 54.0)
    # aws 2025-07: nothing billed (no percentage): not judged.
    _reconciliation(db, "aws", "2025-07-01", None, 0.0, 12.0)
    ok = _run(checks.reconciled_within_tolerance, config)
    assert ok.passed and ok.severity == dg.AssetCheckSeverity.WARN

    # anthropic 2025-08: billed 200, logged 180: 10% > 5%.
    _reconciliation(db, "anthropic", "2025-08-01", None, 200.0, 180.0)
    bad = _run(checks.reconciled_within_tolerance, config)
    assert not bad.passed and bad.severity == dg.AssetCheckSeverity.WARN
    assert bad.metadata["offending"].value == 1 and bad.metadata["tolerance_pct"].value == 5
    assert "| anthropic | 2025-08-01 | 200.0 | 180.0 | 20.0 | 10.0 |" in bad.metadata["first_rows"].value


def test_token_price_coverage_per_source(warehouse):
    config, db = warehouse
    _event(db, "app", 950, 0.01)
    _event(db, "app", 50, None, model="mystery")  # 95% of app's tokens priced: above 0.9
    _event(db, "gateway", 100, 0.001)
    assert _run(checks.token_price_coverage, config).passed

    _event(db, "gateway", 20, None, model="mystery")  # gateway: 100 / 120 = 83% < 90%
    bad = _run(checks.token_price_coverage, config)
    assert not bad.passed and bad.severity == dg.AssetCheckSeverity.WARN
    assert bad.metadata["offending"].value == 1
    rows = bad.metadata["first_rows"].value
    assert "| gateway | 2 | 1 | 120 | 20 | 0.8333 | openai/mystery |" in rows and "| app |" not in rows


def test_freshness_per_configured_source(warehouse):
    config, db = warehouse
    _cost_line(db, "1", "a", "USD", end=NOW - timedelta(hours=2))
    _event(db, "app", 10, 0.1, when=NOW - timedelta(hours=23))
    _event(db, "gateway", 10, 0.1, when=NOW - timedelta(hours=30))
    _event(db, "gateway", 10, 0.1, when=NOW - timedelta(hours=1))
    _event(db, "retired", 10, 0.1, when=NOW - timedelta(days=90))  # no longer in the config: not judged
    assert _run(checks.cost_lines_fresh, config).passed
    assert _run(checks.usage_events_fresh, config).passed

    _execute(db, "DELETE FROM usage_events WHERE x_source = 'gateway' AND event_time > ?", [NOW - timedelta(hours=2)])
    _execute(db, "UPDATE cost_lines SET ChargePeriodEnd = ?", [NOW - timedelta(hours=25)])
    usage = _run(checks.usage_events_fresh, config)
    assert not usage.passed and usage.severity == dg.AssetCheckSeverity.WARN
    assert usage.metadata["offending"].value == 1 and "| gateway |" in usage.metadata["first_rows"].value
    # its age in hours: 30 when NOW was taken (at import; a long test session adds minutes, not hours)
    assert re.search(r"\| 30\.\d+ \|", usage.metadata["first_rows"].value)
    cost = _run(checks.cost_lines_fresh, config)
    assert not cost.passed and "| cur |" in cost.metadata["first_rows"].value

    _execute(db, "DELETE FROM usage_events WHERE x_source = 'app'")  # a configured source with no rows at all
    assert _run(checks.usage_events_fresh, config).metadata["offending"].value == 2


def test_checks_run_in_a_materialization(warehouse):
    """Through Dagster's executor, as the definitions run them: the ERROR check fails the evaluation."""
    config, db = warehouse
    _cost_line(db, "1", "acct", "USD")
    _cost_line(db, "2", "acct", "EUR")

    @dg.asset(name="cost_lines")
    def stub_cost_lines():
        return None

    result = dg.materialize(
        [stub_cost_lines, checks.one_currency_per_account, checks.no_null_cost_on_usage_lines],
        resources={"aispend": AispendResource(config_path=str(config))}, raise_on_error=False,
    )
    outcome = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert outcome == {"one_currency_per_account": False, "no_null_cost_on_usage_lines": True}


def test_every_currency_has_a_rate(warehouse):
    """USD lines need no rate in a USD warehouse; EUR needs the ECB's (loaded by the fx_rates step); AED has none."""
    from pipelines.config import load_config
    from pipelines.fx import load_fx_rates

    config, db = warehouse
    _cost_line(db, "1", "acct-1", "USD")
    _cost_line(db, "2", "acct-2", "EUR", end=datetime(2026, 10, 6))
    before = _run(checks.every_currency_has_a_rate, config)
    assert not before.passed and "| EUR | 2026-10-05 | 1 |" in before.metadata["first_rows"].value
    con = connect_writer(db)
    try:
        load_fx_rates(con, load_config(config))
    finally:
        con.close()
    assert _run(checks.every_currency_has_a_rate, config).passed
    _cost_line(db, "3", "acct-3", "AED", end=datetime(2026, 10, 8))
    after = _run(checks.every_currency_has_a_rate, config)
    assert not after.passed and after.severity == dg.AssetCheckSeverity.ERROR
    assert "| AED | 2026-10-07 | 1 |" in after.metadata["first_rows"].value
