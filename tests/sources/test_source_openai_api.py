"""OpenAI Costs and Usage APIs through the real ingest, against the local fake API.

Expected figures are computed here from the fixture data (Decimal sums, hand-made token arithmetic) or by
plain SQL over the warehouse's own price table, never taken from the reader's output.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from pipelines.models import canonical_model
from pipelines.sources import api_days
from pipelines.loads import load_prices, load_table
from tests.support.fake_provider_api import OPENAI_COSTS, OPENAI_USAGE, FakeProviderApi, api_config
from warehouse.db import connect_writer

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
TODAY = date(2026, 11, 4)  # with refresh_days=1: D1 and D2 are final, D3 is recent
KEY_ENV = "TEST_OPENAI_KEY"
# x_model and usage_events.model come from the shared normalizer (tested in test_models.py)
GPT4O, GPT4O_MINI = canonical_model("openai", "gpt-4o-2024-08-06"), canonical_model("openai", "gpt-4o-mini-2024-07-18")


def cost(value, line_item, project, currency="usd"):
    return {"object": "organization.costs.result", "amount": {"value": value, "currency": currency},
            "line_item": line_item, "project_id": project}


COSTS = {
    D1: [
        cost(0.0625, "gpt-4o-2024-08-06, input", "proj_a"),
        cost("0.125", "gpt-4o-2024-08-06, cached input", "proj_a"),  # value as a string
        cost(1.5, "gpt-4o-2024-08-06, output", "proj_a"),
        cost(0.75, "gpt-4o-mini-2024-07-18, input", "proj_b"),
        cost("0.03", "web search tool calls", "proj_a"),  # no model: an AI service line
    ],
    D2: [],  # a day without spend: an empty bucket
    D3: [
        cost(2.25, "gpt-4o-2024-08-06, output", "proj_b"),
        cost("0.5", "gpt-4.1-mini-2025-04-14, input", None),
    ],
}


def usage(inp, cached, out, requests, model, project, batch=False, tier="default"):
    return {"object": "organization.usage.completions.result", "input_tokens": inp, "input_cached_tokens": cached,
            "output_tokens": out, "input_audio_tokens": 0, "output_audio_tokens": 0, "num_model_requests": requests,
            "project_id": project, "user_id": None, "api_key_id": "key_abc", "model": model, "batch": batch,
            "service_tier": tier}


USAGE = {
    D1: [
        usage(1000, 200, 300, 5, "gpt-4o-2024-08-06", "proj_a"),
        usage(5000, 0, 100, 2, "gpt-4o-mini-2024-07-18", "proj_b", batch=True, tier="batch"),
        usage(40, 40, 10, 1, "gpt-4o-2024-08-06", "proj_b"),
    ],
    D2: [],
    D3: [usage(700, 100, 50, 3, "gpt-4o-2024-08-06", "proj_a", tier="flex")],
}


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setattr(api_days, "utc_today", lambda: TODAY)
    with FakeProviderApi() as server:
        server.data[OPENAI_COSTS] = {d: list(r) for d, r in COSTS.items()}
        server.data[OPENAI_USAGE] = {d: list(r) for d, r in USAGE.items()}
        monkeypatch.setenv(KEY_ENV, server.openai_key)
        yield server


def config(tmp_path, api, kind="openai_costs", **options):
    chosen = {"start_date": "2026-11-01", "end_date": "2026-11-03", "refresh_days": 1, **options}
    return api_config(tmp_path, kind, api.url, KEY_ENV, **{k: v for k, v in chosen.items() if v is not None})


def day_of(request) -> date:
    return datetime.fromtimestamp(int(request.params["start_time"][0]), timezone.utc).date()


def test_costs_totals_and_columns(tmp_path, api):
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    results = load_table(con, cfg, "cost_lines")
    assert sorted(r.status for r in results) == ["loaded"] * 3

    expected_total = sum(Decimal(str(c["amount"]["value"])) for rows in COSTS.values() for c in rows)
    got = con.sql("SELECT count(*), sum(BilledCost), sum(EffectiveCost), count(DISTINCT x_line_id), "
                  "string_agg(DISTINCT BillingCurrency, ',') FROM cost_lines").fetchone()
    assert got[0] == 7 and got[3] == 7 and got[4] == "USD"
    assert got[1] == pytest.approx(float(expected_total), abs=1e-12)
    assert got[2] == pytest.approx(float(expected_total), abs=1e-12)

    by_line = {r[0]: r[1:] for r in con.sql(
        "SELECT ChargeDescription, x_model, x_token_type, x_ai_category, SubAccountId, BilledCost, "
        "ChargePeriodStart, ChargePeriodEnd, BillingPeriodStart, ProviderName, ServiceName, x_is_ai "
        "FROM cost_lines WHERE ChargePeriodStart = '2026-11-01'").fetchall()}
    assert by_line["gpt-4o-2024-08-06, cached input"][:5] == (GPT4O, "cache_read", "model_usage",
                                                              "proj_a", 0.125)
    assert by_line["gpt-4o-2024-08-06, output"][1] == "output"
    assert by_line["gpt-4o-mini-2024-07-18, input"][:2] == (GPT4O_MINI, "input")
    assert by_line["web search tool calls"][:3] == (None, None, "ai_service")
    first = by_line["gpt-4o-2024-08-06, input"]
    assert first[5:] == (datetime(2026, 11, 1), datetime(2026, 11, 2), datetime(2026, 11, 1), "OpenAI",
                         "OpenAI API", True)
    assert con.sql("SELECT x_source_file, count(*) FROM cost_lines GROUP BY 1 ORDER BY 1").fetchall() == [
        ("openai_costs:2026-11-01", 5), ("openai_costs:2026-11-03", 2)]

    # paging: D1's five results come in pieces of two, two pieces per page -> two requests for that day
    assert [day_of(r) for r in api.calls(OPENAI_COSTS)].count(D1) == 2
    sent = api.calls(OPENAI_COSTS)[0].params
    assert sent["group_by"] == ["line_item", "project_id"] and sent["bucket_width"] == ["1d"]
    assert int(sent["end_time"][0]) - int(sent["start_time"][0]) == 86400


def test_second_run_skips_final_days_and_refetches_recent(tmp_path, api):
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    load_table(con, cfg, "cost_lines")
    before = con.sql("SELECT count(*), sum(BilledCost) FROM cost_lines").fetchone()
    first_calls = len(api.calls())

    results = load_table(con, cfg, "cost_lines")
    assert {r.location: r.status for r in results} == {
        "openai_costs:2026-11-01": "unchanged", "openai_costs:2026-11-02": "unchanged",
        "openai_costs:2026-11-03": "replaced"}
    assert {day_of(r) for r in api.calls()[first_calls:]} == {D3}
    assert con.sql("SELECT count(*), sum(BilledCost) FROM cost_lines").fetchone() == before


def test_usage_tokens_normalized_and_priced(tmp_path, api):
    cfg = config(tmp_path, api, "openai_usage")
    con = connect_writer(cfg.warehouse_path)
    load_prices(con, cfg)
    results = load_table(con, cfg, "usage_events")
    assert sorted(r.status for r in results) == ["loaded"] * 3

    rows = [u for day in USAGE.values() for u in day]
    got = con.sql("SELECT count(*), sum(request_count), sum(input_tokens), sum(cache_read_tokens), "
                  "sum(cache_write_tokens), sum(output_tokens), count(*) FILTER (WHERE is_batch) FROM usage_events"
                  ).fetchone()
    assert got == (
        len(rows),
        sum(u["num_model_requests"] for u in rows),
        sum(u["input_tokens"] - u["input_cached_tokens"] for u in rows),  # OpenAI input includes cached
        sum(u["input_cached_tokens"] for u in rows),
        0,
        sum(u["output_tokens"] for u in rows),
        1,
    )
    one = con.sql("SELECT event_time, provider, model, raw_model, task, project, service_tier, status, run_id, "
                  "request_id, input_tokens, cache_read_tokens FROM usage_events WHERE service_tier = 'flex'"
                  ).fetchone()
    assert one == (datetime(2026, 11, 3), "openai", GPT4O, "gpt-4o-2024-08-06", "unattributed",
                   "proj_a", "flex", "ok", None, None, 600, 100)
    # every row priced; standard-tier rows at the price table's standard rates (plain SQL over prices;
    # batch and flex variants are the pricing package's business and tested there)
    expected = con.sql(
        "SELECT sum((u.input_tokens * p.input_usd_per_mtok + u.cache_read_tokens * p.cache_read_usd_per_mtok "
        "+ u.output_tokens * p.output_usd_per_mtok) / 1e6), count(*) FROM usage_events u JOIN prices p "
        "ON p.provider = u.provider AND p.model = u.model AND p.valid_from <= u.event_time::DATE "
        "AND (p.valid_to IS NULL OR u.event_time::DATE < p.valid_to) AND p.price_variant = 'standard' "
        "WHERE u.service_tier = 'default' AND NOT u.is_batch").fetchone()
    total, unpriced = con.sql("SELECT sum(cost_usd) FILTER (WHERE service_tier = 'default' AND NOT is_batch), "
                              "count(*) FILTER (WHERE cost_usd IS NULL) FROM usage_events").fetchone()
    assert unpriced == 0 and expected[1] == 2 and expected[0] > 0
    assert total == pytest.approx(expected[0], rel=1e-9)


def test_malformed_page_quarantines_that_day_only(tmp_path, api):
    good = [cost(float(n), f"gpt-4o, input", f"p{n}") for n in range(4)]
    api.data[OPENAI_COSTS][D2] = [*good, cost("twelve dollars", "gpt-4o-2024-08-06, output", "p")]
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    results = {r.location: r for r in load_table(con, cfg, "cost_lines")}
    assert {k: r.status for k, r in results.items()} == {
        "openai_costs:2026-11-01": "loaded", "openai_costs:2026-11-02": "quarantined",
        "openai_costs:2026-11-03": "loaded"}
    error = results["openai_costs:2026-11-02"].error
    # results come two to a bucket piece, two pieces to a page: the fifth is page 2's first
    assert error == "openai_costs:2026-11-02 page 2, row 1, column 'amount.value': not a number: 'twelve dollars'"
    logged = con.sql("SELECT status, error FROM ingest_log WHERE location = 'openai_costs:2026-11-02'").fetchone()
    assert logged == ("quarantined", error)
    assert con.sql("SELECT count(*) FROM cost_lines WHERE ChargePeriodStart = '2026-11-02'").fetchone()[0] == 0
    assert con.sql("SELECT count(*) FROM cost_lines").fetchone()[0] == 7


def test_unknown_currency_is_refused(tmp_path, api):
    api.data[OPENAI_COSTS][D3] = [cost(1.0, "gpt-4o, input", "p", currency="dollars")]
    cfg = config(tmp_path, api)
    results = {r.location: r for r in load_table(connect_writer(cfg.warehouse_path), cfg, "cost_lines")}
    assert "column 'amount.currency': unknown currency 'dollars'" in results["openai_costs:2026-11-03"].error


def test_rate_limits_and_server_errors_are_ridden_out(tmp_path, api):
    on_d1 = lambda params: params["start_time"] == [str(int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()))]
    api.fail(OPENAI_COSTS, 429, times=1, retry_after="0", when=on_d1)
    api.fail(OPENAI_COSTS, 500, times=1, when=on_d1)
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    assert sorted(r.status for r in load_table(con, cfg, "cost_lines")) == ["loaded"] * 3
    assert [r.status for r in api.calls() if day_of(r) == D1] == [429, 500, 200, 200]
    assert con.sql("SELECT count(*) FROM cost_lines").fetchone()[0] == 7


def test_missing_key_names_the_variable(tmp_path, api, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    [result] = load_table(con, cfg, "cost_lines")
    assert result.status == "quarantined" and f"environment variable {KEY_ENV} is not set" in result.error
    assert api.calls() == []


def test_key_never_reaches_ingest_log_or_logs(tmp_path, api, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    cfg = config(tmp_path, api)
    con = connect_writer(cfg.warehouse_path)
    load_table(con, cfg, "cost_lines", log=messages.append)  # the right key
    wrong = "sk-admin-WRONG-0123456789abcdef"
    monkeypatch.setenv(KEY_ENV, wrong)
    results = load_table(con, cfg, "cost_lines", log=messages.append)  # D3 is re-fetched with a rejected key
    assert [r.status for r in results if r.status != "unchanged"] == ["quarantined"]
    assert "HTTP 401" in results[-1].error and "Incorrect API key provided" in results[-1].error
    ingest_log = str(con.sql("SELECT * FROM ingest_log").fetchall())
    out = capsys.readouterr()
    for text in (ingest_log, caplog.text, out.out, out.err, "\n".join(messages)):
        assert api.openai_key not in text and wrong not in text and "WRONG-0123" not in text


@pytest.mark.parametrize("options, reason", [
    ({"start_date": None}, "start_date: Field required"),
    ({"start_date": "1 Nov 2026"}, "start_date: Input should be a valid date"),
    ({"refresh_days": -1}, "refresh_days: Input should be greater than or equal to 0"),
    ({"end_date": "2026-10-01"}, "start_date 2026-11-01 is after end_date 2026-10-01"),
    ({"refresh_dayz": 3}, "refresh_dayz: Extra inputs are not permitted"),
])
def test_bad_options_refuse_the_config_before_any_request(tmp_path, api, options, reason):
    with pytest.raises(ValueError, match=reason) as raised:
        config(tmp_path, api, **options)
    assert "source my_openai_costs (kind openai_costs): options" in str(raised.value)
    assert api.calls() == []


def test_a_start_after_today_refuses_the_source_before_any_request(tmp_path, api):
    cfg = config(tmp_path, api, start_date="2026-11-05", end_date="2026-11-09")
    [result] = load_table(connect_writer(cfg.warehouse_path), cfg, "cost_lines")
    assert result.status == "quarantined" and "start_date 2026-11-05 is after end_date 2026-11-04" in result.error
    assert api.calls() == []
