"""Claude Code analytics, GitHub Copilot and Cursor through the real ingest and HTTP client, against the local fake
API serving each vendor's documented shapes (tests/support/fake_seat_apis.py): paging three ways, a 429 and a
5xx ridden out, a missing key quarantining its source only.

Expected figures are worked out here from the fixture records (Decimal sums of cents, hand counts), never read
back from the reader.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from pipelines.config import AispendConfig, SourceConfig
from pipelines.loads import load_table
from pipelines.models import canonical_model
from pipelines.sources import api_days
from tests.support.fake_provider_api import CLAUDE_CODE, CURSOR_DAILY, CURSOR_MEMBERS, CURSOR_SPEND, FakeProviderApi
from tests.support.fake_seat_apis import COPILOT_PREMIUM, COPILOT_SEATS, CYCLE_START_MS, ORG, SNAPSHOT
from warehouse.db import connect_writer

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
TODAY = date(2026, 11, 4)
SONNET, HAIKU = "claude-sonnet-4-20250514", "claude-3-5-haiku-20241022"
KEYS = {"anthropic": "TEST_ANTHROPIC_ADMIN", "github": "TEST_GITHUB_TOKEN", "cursor": "TEST_CURSOR_KEY"}


def cc_record(day, actor, sessions=0, added=0, removed=0, commits=0, prs=0, models=(), customer="subscription"):
    kind, field = ("api_actor", "api_key_name") if "@" not in actor else ("user_actor", "email_address")
    return {"date": f"{day.isoformat()}T00:00:00Z", "actor": {"type": kind, field: actor}, "organization_id": "org-1",
            "customer_type": customer, "terminal_type": "vscode",
            "core_metrics": {"num_sessions": sessions, "lines_of_code": {"added": added, "removed": removed},
                             "commits_by_claude_code": commits, "pull_requests_by_claude_code": prs},
            "tool_actions": {"edit_tool": {"accepted": 3, "rejected": 1}},
            "model_breakdown": [{"model": m, "tokens": {"input": i, "output": o, "cache_read": cr, "cache_creation": cw},
                                 "estimated_cost": {"currency": "USD", "amount": cents}}
                                for m, i, o, cr, cw, cents in models]}


CLAUDE = {
    D1: [
        cc_record(D1, "Ana@Acme.com", 4, 120, 30, 2, 1, [(SONNET, 1000, 500, 20000, 3000, 150),
                                                          (HAIKU, 200, 100, 0, 0, "12.5")]),
        cc_record(D1, "ci-bot-key", 1, 10, 0, 0, 0, [(SONNET, 50, 60, 0, 0, 1)], customer="api"),
        cc_record(D1, "bob@acme.com"),  # signed in, did nothing
    ],
    D2: [],
    D3: [cc_record(D3, "ana@acme.com", 2, 40, 5, 1, 0, [(SONNET, 300, 200, 1000, 0, 44)])],
}


def seat(login, plan="business", created="2026-06-01T10:00:00Z", last=None, cancel=None):
    return {"created_at": created, "updated_at": created, "pending_cancellation_date": cancel,
            "last_activity_at": last, "last_activity_editor": "vscode/1.95", "plan_type": plan,
            "assignee": {"login": login, "id": 1, "type": "User"}}


SEATS = [seat("AnaLima", last="2026-11-03T16:20:00+02:00"), seat("bobk", last="2026-09-01T08:00:00Z"),
         seat("carol", plan="enterprise"), seat("dave", cancel="2026-11-30"), seat("erin", last="2026-11-02T00:00:00Z")]


def premium(sku, model, gross_qty, gross, discount, net):
    return {"product": "Copilot", "sku": sku, "model": model, "unitType": "requests", "pricePerUnit": 0.04,
            "grossQuantity": gross_qty, "grossAmount": gross, "discountQuantity": round(discount / 0.04),
            "discountAmount": discount, "netQuantity": gross_qty - round(discount / 0.04), "netAmount": net}


PREMIUM = {D1: [premium("Copilot Premium Request", "Claude Sonnet 4", 500, 20.0, 12.0, 8.0),
                premium("Copilot Premium Request", "GPT-5", 100, 4.0, 4.0, 0.0)],
           D3: [premium("Copilot Premium Request", "Claude Sonnet 4", 130, 5.2, 0.0, 5.2)]}


def ms(day: date, hour: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc).timestamp() * 1000)


def cursor_day(day, email, active=True, added=0, deleted=0, composer=0, chat=0, agent=0, cmdk=0):
    return {"date": ms(day), "email": email, "isActive": active, "totalLinesAdded": added * 3,
            "totalLinesDeleted": deleted * 2, "acceptedLinesAdded": added, "acceptedLinesDeleted": deleted,
            "composerRequests": composer, "chatRequests": chat, "agentRequests": agent, "cmdkUsages": cmdk,
            "usageBasedReqs": 0, "mostUsedModel": "claude-4-sonnet", "clientVersion": "1.2.0"}


CURSOR = {D1: [cursor_day(D1, "ana@acme.com", added=50, deleted=5, composer=3, chat=4, agent=5, cmdk=1)],
          D2: [cursor_day(D2, "ana@acme.com", added=7, agent=2), cursor_day(D2, "Frank@Acme.com", active=False),
               cursor_day(D2, "gina@acme.com", added=1, chat=1)],
          D3: [cursor_day(D3, "gina@acme.com", added=9, agent=9)]}
MEMBERS = [{"name": "Ana Lima", "email": "ana@acme.com", "role": "member"},
           {"name": "Frank", "email": "frank@acme.com", "role": "member"},
           {"name": "Old", "email": "old@acme.com", "role": "member", "isRemoved": True}]
SPEND = [{"email": "ana@acme.com", "name": "Ana Lima", "spendCents": 6500, "includedSpendCents": 2000,
          "fastPremiumRequests": 420},
         {"email": "frank@acme.com", "name": "Frank", "spendCents": 0, "fastPremiumRequests": 0},
         {"email": "gina@acme.com", "name": "Gina", "spendCents": 1234.5, "fastPremiumRequests": 12}]


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setattr(api_days, "utc_today", lambda: TODAY)
    with FakeProviderApi() as server:
        server.data[CLAUDE_CODE] = CLAUDE
        server.data[COPILOT_SEATS] = {SNAPSHOT: list(SEATS)}
        server.data[COPILOT_PREMIUM] = PREMIUM
        server.data[CURSOR_DAILY] = CURSOR
        server.data[CURSOR_MEMBERS] = {SNAPSHOT: MEMBERS}
        server.data[CURSOR_SPEND] = {SNAPSHOT: SPEND}
        monkeypatch.setenv(KEYS["anthropic"], server.anthropic_key)
        monkeypatch.setenv(KEYS["github"], server.github_key)
        monkeypatch.setenv(KEYS["cursor"], server.cursor_key)
        yield server


def config(tmp_path, api, *sources: tuple[str, str, dict]) -> AispendConfig:
    made = [SourceConfig(name=f"my_{kind}", kind=kind, api_key_env=KEYS[vendor],
                         options={"base_url": api.url, "backoff_s": 0.01, **options})
            for kind, vendor, options in sources]
    return AispendConfig(warehouse=str(tmp_path / "wh" / "aispend.duckdb"), sources=made, base_dir=str(tmp_path))


DAYS = {"start_date": "2026-11-01", "end_date": "2026-11-03", "refresh_days": 1}


def test_claude_code_report_pages_cents_and_identities(tmp_path, api):
    api.fail(CLAUDE_CODE, 429, retry_after="0", when=lambda p: p["starting_at"] == ["2026-11-01"])
    api.fail(CLAUDE_CODE, 503, when=lambda p: p.get("page") == ["cc-2"])
    cfg = config(tmp_path, api, ("claude_code_analytics", "anthropic", DAYS))
    con = connect_writer(cfg.warehouse_path)
    assert sorted(r.status for r in load_table(con, cfg, "person_activity")) == ["loaded"] * 3
    # D1: three records, two a page -> 2 pages, plus the 429 and the 503 retried
    d1 = [r for r in api.calls(CLAUDE_CODE) if r.params["starting_at"] == ["2026-11-01"]]
    assert [r.status for r in d1] == [429, 200, 503, 200] and d1[0].params["limit"] == ["1000"]

    records = [r for day in CLAUDE.values() for r in day]
    models = [m for r in records for m in r["model_breakdown"]]
    got = con.sql("SELECT count(*) FILTER (WHERE record = 'activity'), count(*) FILTER (WHERE record = 'tokens'), "
                  "sum(sessions), sum(lines_added), sum(lines_removed), sum(commits), sum(pull_requests), "
                  "sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(output_tokens), "
                  "sum(estimated_cost_usd) FROM person_activity").fetchone()
    core = lambda f: sum(r["core_metrics"][f] for r in records)
    tok = lambda f: sum(m["tokens"][f] for m in models)
    cents = sum(Decimal(str(m["estimated_cost"]["amount"])) for m in models)  # 150 + 12.5 + 1 + 44 = 207.5 cents
    assert got[:11] == (4, 4, core("num_sessions"), sum(r["core_metrics"]["lines_of_code"]["added"] for r in records),
                        sum(r["core_metrics"]["lines_of_code"]["removed"] for r in records),
                        core("commits_by_claude_code"), core("pull_requests_by_claude_code"), tok("input"),
                        tok("cache_read"), tok("cache_creation"), tok("output"))
    assert got[11] == pytest.approx(float(cents / 100)) and float(cents / 100) == 2.075
    # identities are normalized (Ana@Acme.com and ana@acme.com are one person); API keys keep their kind
    people = con.sql("SELECT identity, identity_kind, sum(sessions) FROM person_activity WHERE record = 'activity' "
                     "GROUP BY ALL ORDER BY 1").fetchall()
    assert people == [("ana@acme.com", "email", 6), ("bob@acme.com", "email", 0), ("ci-bot-key", "api_key", 1)]
    assert con.sql("SELECT DISTINCT model FROM person_activity WHERE record = 'tokens' ORDER BY 1").fetchall() == sorted(
        [(canonical_model("anthropic", HAIKU),), (canonical_model("anthropic", SONNET),)])
    assert con.sql("SELECT is_active FROM person_activity WHERE identity = 'bob@acme.com'").fetchone() == (False,)


def test_missing_key_quarantines_that_source_only(tmp_path, api, monkeypatch):
    monkeypatch.delenv(KEYS["anthropic"])
    cfg = config(tmp_path, api, ("claude_code_analytics", "anthropic", DAYS), ("cursor_usage", "cursor", DAYS))
    con = connect_writer(cfg.warehouse_path)
    results = load_table(con, cfg, "person_activity")
    claude = [r for r in results if r.source == "my_claude_code_analytics"]
    assert [r.status for r in claude] == ["quarantined"]
    assert f"environment variable {KEYS['anthropic']} is not set" in claude[0].error
    assert {r.status for r in results if r.source == "my_cursor_usage"} == {"loaded"}
    assert api.calls(CLAUDE_CODE) == [] and con.sql("SELECT count(*) FROM person_activity").fetchone()[0] > 0


def test_copilot_seats_follow_link_pages_into_a_daily_snapshot(tmp_path, api, monkeypatch):
    api.fail(COPILOT_SEATS, 502, when=lambda p: p.get("page") == ["2"])
    cfg = config(tmp_path, api, ("copilot_seats", "github", {"org": ORG}))
    con = connect_writer(cfg.warehouse_path)
    assert [r.status for r in load_table(con, cfg, "seats")] == ["loaded"]
    # five seats, two a page: pages 1, 2 (a 502 first), 3; every request carries the token and API version
    calls = api.calls(COPILOT_SEATS)
    assert [(r.params.get("page"), r.status) for r in calls] == [(None, 200), (["2"], 502), (["2"], 200), (["3"], 200)]
    assert {r.headers["x-github-api-version"] for r in calls} == {"2022-11-28"}
    rows = con.sql("SELECT identity, plan, monthly_price_usd, price_source, start_date, end_date, last_activity_at, "
                   "snapshot_day, x_source_file FROM seats ORDER BY identity").fetchall()
    assert [r[:4] for r in rows] == [("analima", "business", 19.0, "plan_list_price"),
                                     ("bobk", "business", 19.0, "plan_list_price"),
                                     ("carol", "enterprise", 39.0, "plan_list_price"),
                                     ("dave", "business", 19.0, "plan_list_price"),
                                     ("erin", "business", 19.0, "plan_list_price")]
    assert rows[0][4:] == (date(2026, 6, 1), None, datetime(2026, 11, 3, 14, 20), TODAY, "copilot_seats:2026-11-04")
    assert rows[3][5] == date(2026, 11, 29)  # cancelled on the 30th: the 29th is the last paid day
    assert rows[2][6] is None  # never used
    # the same day again replaces that snapshot; the next day adds its own
    load_table(con, cfg, "seats")
    assert con.sql("SELECT count(*) FROM seats").fetchone()[0] == 5
    monkeypatch.setattr(api_days, "utc_today", lambda: date(2026, 11, 5))
    load_table(con, cfg, "seats")
    assert con.sql("SELECT snapshot_day, count(*) FROM seats GROUP BY 1 ORDER BY 1").fetchall() == [
        (TODAY, 5), (date(2026, 11, 5), 5)]


def test_a_seat_snapshot_short_of_total_seats_is_refused(tmp_path, api):
    api.settings["total_seats"] = 6  # the pages hold five: one was lost
    cfg = config(tmp_path, api, ("copilot_seats", "github", {"org": ORG}))
    [result] = load_table(connect_writer(cfg.warehouse_path), cfg, "seats")
    assert result.status == "quarantined" and "list 5 seats but total_seats says 6" in result.error


def test_copilot_api_without_org_names_the_option(tmp_path, api):
    cfg = config(tmp_path, api, ("copilot_seats", "github", {}))
    [result] = load_table(connect_writer(cfg.warehouse_path), cfg, "seats")
    assert result.status == "quarantined" and "option org is required" in result.error and api.calls() == []


def test_copilot_premium_requests_are_billed_lines(tmp_path, api):
    api.fail(COPILOT_PREMIUM, 500, when=lambda p: p["day"] == ["3"])
    cfg = config(tmp_path, api, ("copilot_premium_requests", "github", {"org": ORG, **DAYS}))
    con = connect_writer(cfg.warehouse_path)
    assert sorted(r.status for r in load_table(con, cfg, "cost_lines")) == ["loaded"] * 3
    items = [i for day in PREMIUM.values() for i in day]
    got = con.sql("SELECT count(*), sum(BilledCost), sum(EffectiveCost), sum(ListCost), sum(ConsumedQuantity), "
                  "count(DISTINCT x_line_id) FROM cost_lines").fetchone()
    assert got == (3, pytest.approx(sum(i["netAmount"] for i in items)), pytest.approx(13.2),
                   pytest.approx(sum(i["grossAmount"] for i in items)), 730.0, 3)
    line = con.sql("SELECT ProviderName, ServiceName, SubAccountId, SkuId, SkuMeter, x_model, x_ai_category, x_is_ai, "
                   "BillingCurrency, ChargePeriodStart FROM cost_lines WHERE SkuMeter = 'GPT-5'").fetchone()
    assert line == ("GitHub", "GitHub Copilot", ORG, "Copilot Premium Request", "GPT-5", None, "ai_service", True,
                    "USD", datetime(2026, 11, 1))
    assert [r.status for r in api.calls(COPILOT_PREMIUM) if r.params["day"] == ["3"]] == [500, 200]


def test_cursor_members_usage_window_and_spend(tmp_path, api):
    api.fail(CURSOR_SPEND, 429, retry_after="0")
    window = {**DAYS, "window_days": 3}  # today is the 4th: the 2nd, 3rd (and 4th) are in the window, the 1st is not
    cfg = config(tmp_path, api, ("cursor_usage", "cursor", window), ("cursor_members", "cursor", {"plan": "teams"}))
    con = connect_writer(cfg.warehouse_path)
    usage = load_table(con, cfg, "person_activity")
    assert sorted(r.location for r in usage) == ["cursor_usage:2026-11-02", "cursor_usage:2026-11-03",
                                                 "cursor_usage:spend:2026-11-04"]
    asked = [(int(r.params["startDate"][0]), int(r.params["endDate"][0]), r.params["page"])
             for r in api.calls(CURSOR_DAILY)]
    # the 2nd has three records, two a page: two pages; each day asked from its first to its last millisecond
    assert asked == [(ms(D2), ms(D3) - 1, ["1"]), (ms(D2), ms(D3) - 1, ["2"]), (ms(D3), ms(TODAY) - 1, ["1"])]
    rows = con.sql("SELECT day, identity, is_active, requests, lines_added, lines_removed FROM person_activity "
                   "WHERE record = 'activity' ORDER BY day, identity").fetchall()
    assert rows == [(D2, "ana@acme.com", True, 2, 7, 0), (D2, "frank@acme.com", False, 0, 0, 0),
                    (D2, "gina@acme.com", True, 1, 1, 0), (D3, "gina@acme.com", True, 9, 9, 0)]
    spend = con.sql("SELECT day, identity, billed_usd, requests FROM person_activity WHERE record = 'spend' "
                    "ORDER BY identity").fetchall()
    cycle = datetime.fromtimestamp(CYCLE_START_MS / 1000, timezone.utc).date()
    # ana: 6500 - 2000 included cents = $45; gina reports no included amount: all 1234.5 cents are usage-based
    assert spend == [(cycle, "ana@acme.com", 45.0, 420), (cycle, "frank@acme.com", 0.0, 0),
                     (cycle, "gina@acme.com", 12.345, 12)]
    # three members, two a page: page 1 (rate limited once), page 2 (totalPages says 2)
    assert [(r.params["page"], r.status) for r in api.calls(CURSOR_SPEND)] == [(["1"], 429), (["1"], 200),
                                                                                (["2"], 200)]
    assert load_table(con, cfg, "seats")[0].status == "loaded"
    assert con.sql("SELECT identity, plan, monthly_price_usd, start_date FROM seats ORDER BY 1").fetchall() == [
        ("ana@acme.com", "teams", 40.0, TODAY), ("frank@acme.com", "teams", 40.0, TODAY)]  # the removed one is not a seat
    auth = api.calls(CURSOR_MEMBERS)[0].headers["authorization"]
    assert auth.startswith("Basic ") and api.cursor_key not in auth


def test_saved_responses_read_from_a_path(tmp_path, api):
    """`gh api --paginate` writes the pages one after another: the same parser reads them, dated by the file name."""
    folder = tmp_path / "copilot"
    folder.mkdir()
    pages = [{"total_seats": 3, "seats": SEATS[:2]}, {"total_seats": 3, "seats": SEATS[2:3]}]
    (folder / "seats-2026-10-31.json").write_text("".join(json.dumps(p) for p in pages))
    source = SourceConfig(name="copilot_files", kind="copilot_seats", path="copilot/seats-*.json")
    cfg = AispendConfig(warehouse=str(tmp_path / "wh" / "aispend.duckdb"), sources=[source], base_dir=str(tmp_path))
    con = connect_writer(cfg.warehouse_path)
    assert [r.status for r in load_table(con, cfg, "seats")] == ["loaded"]
    assert con.sql("SELECT count(*), min(snapshot_day), min(x_source_file) FROM seats").fetchone() == (
        3, date(2026, 10, 31), "seats-2026-10-31.json")
    assert api.calls() == []
