"""Anthropic cost and usage reports through the real ingest, against the local fake API.

Costs are cents in decimal strings: expected dollars are computed here with Decimal from the fixture data.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from pipelines.models import canonical_model
from pipelines.sources import api_days
from pipelines.loads import load_prices, load_table
from pipelines.marts import build
from tests.support.fake_provider_api import ANTHROPIC_COSTS, ANTHROPIC_USAGE, FakeProviderApi, api_config
from warehouse.db import connect_writer

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
TODAY = date(2026, 11, 4)  # with refresh_days=1: D1 and D2 are final, D3 is recent
KEY_ENV = "TEST_ANTHROPIC_KEY"
SONNET, HAIKU = "claude-sonnet-4-20250514", "claude-3-5-haiku-20241022"


def cost(amount, token_type, model=SONNET, workspace="wrkspc_a", cost_type="tokens", description=None,
         currency="USD"):
    return {"amount": amount, "currency": currency, "workspace_id": workspace,
            "description": description or f"{model} {token_type}", "cost_type": cost_type,
            "context_window": "0-200k" if model else None, "model": model,
            "service_tier": "standard" if model else None, "token_type": token_type, "inference_geo": None}


COSTS = {
    D1: [
        cost("123.45", "uncached_input_tokens"),
        cost("0.01", "output_tokens"),
        cost("250", "cache_read_input_tokens"),
        cost("33.333", "cache_creation.ephemeral_5m_input_tokens"),
        cost("1000.5", None, model=None, workspace=None, cost_type="web_search", description="Web Search Usage"),
    ],
    D2: [],
    D3: [cost("99.99", "cache_creation.ephemeral_1h_input_tokens", model=HAIKU, workspace="wrkspc_b")],
}


def usage(uncached, cache_5m, cache_1h, cache_read, out, model=SONNET, workspace="wrkspc_a", tier="standard"):
    return {"uncached_input_tokens": uncached,
            "cache_creation": {"ephemeral_5m_input_tokens": cache_5m, "ephemeral_1h_input_tokens": cache_1h},
            "cache_read_input_tokens": cache_read, "output_tokens": out,
            "server_tool_use": {"web_search_requests": 0}, "api_key_id": "apikey_01", "workspace_id": workspace,
            "model": model, "service_tier": tier, "context_window": "0-200k"}


USAGE = {
    D1: [
        usage(1500, 500, 1000, 2000, 700),
        usage(300, 0, 0, 0, 90, model=HAIKU, tier="batch"),
        usage(10, 0, 0, 4000, 20, workspace=None),
    ],
    D2: [],
    D3: [usage(800, 100, 0, 50, 400, model=HAIKU, workspace="wrkspc_b")],
}


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setattr(api_days, "utc_today", lambda: TODAY)
    with FakeProviderApi() as server:
        server.data[ANTHROPIC_COSTS] = {d: list(r) for d, r in COSTS.items()}
        server.data[ANTHROPIC_USAGE] = {d: list(r) for d, r in USAGE.items()}
        monkeypatch.setenv(KEY_ENV, server.anthropic_key)
        yield server


def config(tmp_path, api, kind="anthropic_costs"):
    return api_config(tmp_path, kind, api.url, KEY_ENV, start_date="2026-11-01", end_date="2026-11-03",
                      refresh_days=1)


def day_of(request) -> date:
    return datetime.fromisoformat(request.params["starting_at"][0].replace("Z", "+00:00")).date()


def test_costs_are_cents_divided_exactly(tmp_path, api):
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    assert sorted(r.status for r in load_table(con, cfg, "cost_lines")) == ["loaded"] * 3

    cents = [Decimal(c["amount"]) for rows in COSTS.values() for c in rows]
    dollars = sum(cents) / 100  # 1507.283 cents -> $15.07283
    got = con.sql("SELECT count(*), sum(BilledCost), sum(EffectiveCost), count(DISTINCT x_line_id) FROM cost_lines"
                  ).fetchone()
    assert got[0] == 6 and got[3] == 6
    assert got[1] == pytest.approx(float(dollars), abs=1e-12) and got[2] == pytest.approx(float(dollars), abs=1e-12)
    # "123.45" in USD is $1.2345, exactly the double nearest to 1.2345 (not 123.45 / 100 in floats)
    assert con.sql("SELECT BilledCost FROM cost_lines WHERE x_token_type = 'input'").fetchone()[0] == 1.2345
    # and "33.333" is 0.33333, where float("33.333") / 100 would give 0.33332999999999996
    write_5m = con.sql("SELECT BilledCost FROM cost_lines WHERE SkuId LIKE '%5m%'").fetchone()[0]
    assert write_5m == float(Decimal("33.333") / 100) and write_5m != float("33.333") / 100

    rows = {r[0]: r[1:] for r in con.sql(
        "SELECT ChargeDescription, x_model, x_token_type, x_ai_category, SubAccountId, BillingCurrency, "
        "ProviderName, ServiceName, ChargePeriodStart, BillingPeriodStart FROM cost_lines").fetchall()}
    sonnet = canonical_model("anthropic", SONNET)
    assert rows[f"{SONNET} output_tokens"][:4] == (sonnet, "output", "model_usage", "wrkspc_a")
    assert rows[f"{SONNET} cache_read_input_tokens"][1] == "cache_read"
    assert rows[f"{SONNET} cache_creation.ephemeral_5m_input_tokens"][1] == "cache_write"
    assert rows[f"{HAIKU} cache_creation.ephemeral_1h_input_tokens"][:2] == (canonical_model("anthropic", HAIKU),
                                                                          "cache_write")
    assert rows["Web Search Usage"][:4] == (None, None, "ai_service", None)
    assert rows["Web Search Usage"][4:] == ("USD", "Anthropic", "Claude API", datetime(2026, 11, 1),
                                            datetime(2026, 11, 1))

    first = api.calls(ANTHROPIC_COSTS)[0]
    assert first.params["group_by[]"] == ["description", "workspace_id"]
    assert first.params["starting_at"] == ["2026-11-01T00:00:00Z"] and first.params["ending_at"] == ["2026-11-02T00:00:00Z"]
    assert first.headers["anthropic-version"] == "2023-06-01"
    assert [day_of(r) for r in api.calls()].count(D1) == 2  # five results: two pages


def test_usage_tokens_and_no_request_count(tmp_path, api):
    cfg = config(tmp_path, api, "anthropic_usage")
    con = connect_writer(cfg.warehouse_path)
    load_prices(con, cfg)
    assert sorted(r.status for r in load_table(con, cfg, "usage_events")) == ["loaded"] * 3

    rows = [u for day in USAGE.values() for u in day]
    got = con.sql("SELECT count(*), sum(request_count), sum(input_tokens), sum(cache_read_tokens), "
                  "sum(cache_write_tokens), sum(output_tokens), count(*) FILTER (WHERE is_batch), "
                  "count(*) FILTER (WHERE cost_usd IS NULL) FROM usage_events").fetchone()
    assert got == (
        len(rows), 0,
        sum(u["uncached_input_tokens"] for u in rows),  # Anthropic input already excludes cache
        sum(u["cache_read_input_tokens"] for u in rows),
        sum(u["cache_creation"]["ephemeral_5m_input_tokens"] + u["cache_creation"]["ephemeral_1h_input_tokens"]
            for u in rows),
        sum(u["output_tokens"] for u in rows),
        1, 0,
    )
    # the 1-hour writes are kept apart (a subset of the cache writes), for their own rate
    assert con.sql("SELECT sum(cache_write_1h_tokens) FROM usage_events").fetchone()[0] == sum(
        u["cache_creation"]["ephemeral_1h_input_tokens"] for u in rows)
    one = con.sql("SELECT event_time, provider, model, raw_model, task, project, service_tier, input_tokens, "
                  "cache_write_tokens FROM usage_events WHERE project = 'wrkspc_b'").fetchone()
    assert one == (datetime(2026, 11, 3), "anthropic", canonical_model("anthropic", HAIKU), HAIKU, "unattributed",
                   "wrkspc_b", "standard", 800, 100)

    # the marts take rows without a request count: tokens and cost counted, no division by zero requests
    build(con, cfg, "usage_daily")
    build(con, cfg, "task_daily")
    daily = con.sql("SELECT sum(requests), sum(input_tokens), round(sum(cost_usd), 12) FROM usage_daily").fetchone()
    total = con.sql("SELECT sum(input_tokens), round(sum(cost_usd), 12) FROM usage_events").fetchone()
    assert daily == (0, *total) and total[1] > 0


def test_second_run_skips_final_days_and_refetches_recent(tmp_path, api):
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    load_table(con, cfg, "cost_lines")
    before = con.sql("SELECT count(*), sum(BilledCost) FROM cost_lines").fetchone()
    calls = len(api.calls())
    results = load_table(con, cfg, "cost_lines")
    assert [r.status for r in results] == ["unchanged", "unchanged", "replaced"]
    assert {day_of(r) for r in api.calls()[calls:]} == {D3}
    assert con.sql("SELECT count(*), sum(BilledCost) FROM cost_lines").fetchone() == before


def test_malformed_amount_quarantines_that_day_only(tmp_path, api):
    api.data[ANTHROPIC_COSTS][D3] = [cost("12,50", "output_tokens")]
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    results = {r.location: r for r in load_table(con, cfg, "cost_lines")}
    assert [r.status for r in results.values()] == ["loaded", "loaded", "quarantined"]
    assert results["anthropic_costs:2026-11-03"].error == (
        "anthropic_costs:2026-11-03 page 1, row 1, column 'amount': not a decimal amount: '12,50'")
    assert con.sql("SELECT count(*) FROM cost_lines").fetchone()[0] == 5


def test_bad_token_count_is_refused(tmp_path, api):
    api.data[ANTHROPIC_USAGE][D1] = [usage(10, 0, 0, 0, 5), usage(-3, 0, 0, 0, 5)]
    cfg = config(tmp_path, api, "anthropic_usage")
    con = connect_writer(cfg.warehouse_path)
    load_prices(con, cfg)
    results = {r.location: r for r in load_table(con, cfg, "usage_events")}
    assert results["anthropic_usage:2026-11-01"].error == (
        "anthropic_usage:2026-11-01 page 1, row 2, column 'uncached_input_tokens': "
        "not a token count ('-3' is not a whole number from 0 to 1e13 (a token count))")


def test_overloaded_and_rate_limited_then_ok(tmp_path, api):
    api.fail(ANTHROPIC_COSTS, 529, times=1, message="Overloaded")
    api.fail(ANTHROPIC_COSTS, 429, times=1, retry_after="0")
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    assert sorted(r.status for r in load_table(con, cfg, "cost_lines")) == ["loaded"] * 3
    assert [r.status for r in api.calls()][:3] == [529, 429, 200]


def test_key_never_reaches_ingest_log_or_logs(tmp_path, api, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    wrong = "sk-ant-admin01-WRONG-abcdefghijkl"
    monkeypatch.setenv(KEY_ENV, wrong)
    messages: list[str] = []
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    results = load_table(con, cfg, "cost_lines", log=messages.append)
    assert [r.status for r in results] == ["quarantined"] * 3
    assert "HTTP 401" in results[0].error and "invalid x-api-key" in results[0].error
    assert len(api.calls()) == 3  # a 401 is not retried
    ingest_log = str(con.sql("SELECT * FROM ingest_log").fetchall())
    out = capsys.readouterr()
    for text in (ingest_log, caplog.text, out.out, out.err, "\n".join(messages)):
        assert wrong not in text and "WRONG-abcdef" not in text and api.anthropic_key not in text


def test_daily_aggregate_is_not_priced_as_one_long_context_request(tmp_path, api):
    model = "claude-sonnet-4-5-20250929"  # a model with a 200k-token long-context tier
    api.data[ANTHROPIC_USAGE] = {D1: [usage(3_000_000, 0, 0, 0, 0, model=model)]}  # many requests in one day
    cfg = api_config(tmp_path, "anthropic_usage", api.url, KEY_ENV, start_date="2026-11-01", end_date="2026-11-01")
    con = connect_writer(cfg.warehouse_path)
    load_prices(con, cfg)
    load_table(con, cfg, "usage_events")
    base = con.sql("SELECT u.input_tokens * p.input_usd_per_mtok / 1e6 FROM usage_events u JOIN prices p "
                   "ON p.provider = u.provider AND p.model = u.model AND p.price_variant = 'standard' "
                   "AND p.valid_from <= u.event_time::DATE AND (p.valid_to IS NULL OR u.event_time::DATE < p.valid_to)"
                   ).fetchone()[0]
    assert base == pytest.approx(9.0)  # 3M tokens at $3 per million
    assert con.sql("SELECT cost_usd FROM usage_events").fetchone()[0] == pytest.approx(base)
