"""person_monthly and idle_seats on a small organization whose every figure is worked out by hand below.

As of 2026-11-20. People: Ana (platform; email, GitHub login, machine user `ana`), Bob (data, moves to ml on
2026-11-01). Seats: Copilot snapshots of 11-19 and 11-20 (analima, bobk, carol who nobody maps, dave who is gone
on the 20th), Ana's Claude Max 20x, three pooled ChatGPT Business seats. Activity: Claude Code analytics (Ana on a
plan, Bob billed per token), Ana's local Claude Code logs, Bob's API calls through an app, an app's end user.
Sonnet 4 is priced $3 in / $15 out per million tokens by a hand-made price table.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from pipelines.models import canonical_model
from pipelines.schemas import PRICES, conform
from pipelines.transforms.person_monthly import idle_seats, person_monthly
from pipelines.transforms.person_use import sources_frame
from tests.support.builders import people, person_activity, seats

AS_OF = date(2026, 11, 20)
SONNET = canonical_model("anthropic", "claude-sonnet-4-20250514")
AUG, SEP, OCT, NOV = (date(2026, m, 1) for m in (8, 9, 10, 11))
KINDS = {"copilot": "copilot_seats", "cc": "claude_code_analytics", "laptop": "claude_code_logs", "app": "otel_genai",
         "subs": "subscriptions", "premium": "copilot_premium_requests"}

PEOPLE = people([
    {"person": "Ana Lima", "team": "platform", "identity": "ana@acme.com"},
    {"person": "Ana Lima", "team": "platform", "identity": "analima", "identity_kind": "github"},
    {"person": "Ana Lima", "team": "platform", "identity": "ana", "identity_kind": "machine_user"},
    {"person": "Bob King", "team": "data", "identity": "bob@acme.com"},
    {"person": "Bob King", "team": "data", "identity": "bobk", "identity_kind": "github"},
    {"person": "Bob King", "team": "ml", "identity": "bob@acme.com", "valid_from": NOV},
    {"person": "Bob King", "team": "ml", "identity": "bobk", "identity_kind": "github", "valid_from": NOV},
])


def copilot(login, created, last=None, plan="business", price=19.0, day=date(2026, 11, 20)):
    return {"vendor": "github", "plan": plan, "identity": login, "monthly_price": price, "start_date": created,
            "last_activity_at": last, "snapshot_day": day, "x_source": "copilot", "x_source_file": f"s:{day}"}


SEATS = seats([
    copilot("analima", date(2026, 9, 15), datetime(2026, 11, 18, 9)),
    copilot("bobk", date(2026, 8, 1), datetime(2026, 9, 30, 17)),
    copilot("carol", date(2026, 11, 10), plan="enterprise", price=39.0),
    copilot("analima", date(2026, 9, 15), datetime(2026, 11, 18, 9), day=date(2026, 11, 19)),
    copilot("bobk", date(2026, 8, 1), datetime(2026, 9, 30, 17), day=date(2026, 11, 19)),
    copilot("dave", date(2026, 10, 1), day=date(2026, 11, 19)),  # not listed on the 20th: gone after the 19th
    {"vendor": "anthropic", "plan": "max_20x", "identity": "ana lima", "monthly_price": 200.0,
     "start_date": date(2026, 10, 1)},  # a subscription naming the person by name
    {"vendor": "openai", "plan": "business", "identity": None, "seat_count": 3, "monthly_price": 30.0,
     "price_source": "subscriptions", "start_date": date(2026, 10, 16)},
])
ACTIVITY = person_activity([
    {"day": date(2026, 11, 3), "vendor": "anthropic", "tool": "claude_code", "identity": "ana@acme.com",
     "customer_type": "subscription", "is_active": True, "sessions": 3, "lines_added": 100, "lines_removed": 10,
     "commits": 2, "pull_requests": 1},
    {"day": date(2026, 11, 3), "vendor": "anthropic", "tool": "claude_code", "identity": "ana@acme.com",
     "customer_type": "subscription", "record": "tokens", "model": SONNET, "input_tokens": 1_000_000,
     "output_tokens": 100_000, "estimated_cost_usd": 4.4},
    {"day": date(2026, 11, 5), "vendor": "anthropic", "tool": "claude_code", "identity": "bob@acme.com",
     "customer_type": "api", "is_active": True, "sessions": 1},
    {"day": date(2026, 11, 5), "vendor": "anthropic", "tool": "claude_code", "identity": "bob@acme.com",
     "customer_type": "api", "record": "tokens", "model": SONNET, "input_tokens": 200_000, "output_tokens": 20_000,
     "estimated_cost_usd": 0.95},
], x_source="cc")
USAGE = pl.LazyFrame(
    [("ana", date(2026, 11, 3), "anthropic", "laptop", 40, 2, 6.0, 0),
     ("Bob@Acme.com", date(2026, 11, 6), "openai", "app", 10, 4, 2.5, 0),
     ("customer-123", date(2026, 11, 6), "openai", "app", 99, 9, 7.0, 0)],  # an app's end user: not staff
    schema={"user_id": pl.String, "day": pl.Date, "provider": pl.String, "x_source": pl.String,
            "requests": pl.Int64, "sessions": pl.Int64, "cost_usd": pl.Float64, "unpriced_tokens": pl.Int64},
    orient="row",
)
ORG = pl.LazyFrame({"month": [NOV], "vendor": ["github"], "usage_cost_usd": [8.0]})
BILLED_SEATS = pl.LazyFrame({"month": [OCT], "vendor": ["openai"]})  # October's bill has the ChatGPT seat lines
PRICES_TABLE = conform(pl.LazyFrame([{
    "provider": "anthropic", "model": SONNET, "valid_from": date(2024, 1, 1), "input_usd_per_mtok": 3.0,
    "output_usd_per_mtok": 15.0, "cache_read_usd_per_mtok": 0.3, "cache_write_usd_per_mtok": 3.75,
    "price_source": "test", "price_variant": "standard"}]), PRICES)


@pytest.fixture(scope="module")
def ledger() -> dict[tuple, dict]:
    frame = person_monthly(PEOPLE, SEATS, ACTIVITY, USAGE, ORG, BILLED_SEATS, sources_frame(KINDS), PRICES_TABLE,
                           AS_OF).collect()
    rows = {(r["month"], r["person"], r["vendor"], r["plan"]): r for r in frame.iter_rows(named=True)}
    assert len(rows) == frame.height  # one row per month, person, vendor, plan
    return rows


def test_seat_costs_are_prorated_to_the_days_held(ledger):
    cost = {k: round(v["seat_cost_usd"], 6) for k, v in ledger.items() if v["seats"]}
    assert cost == {
        (SEP, "Ana Lima", "github", "business"): round(19 * 16 / 30, 6),   # from Sep 15: 16 of 30 days
        (OCT, "Ana Lima", "github", "business"): 19.0, (NOV, "Ana Lima", "github", "business"): 19.0,  # open: all Nov
        (AUG, "Bob King", "github", "business"): 19.0, (SEP, "Bob King", "github", "business"): 19.0,
        (OCT, "Bob King", "github", "business"): 19.0, (NOV, "Bob King", "github", "business"): 19.0,
        (NOV, "carol", "github", "enterprise"): round(39 * 21 / 30, 6),    # from Nov 10: 21 of 30 days
        (OCT, "dave", "github", "business"): 19.0,
        (NOV, "dave", "github", "business"): round(19 * 19 / 30, 6),       # last listed on Nov 19
        (OCT, "Ana Lima", "anthropic", "max_20x"): 200.0, (NOV, "Ana Lima", "anthropic", "max_20x"): 200.0,
        (OCT, None, "openai", "business"): round(3 * 30 * 16 / 31, 6),     # from Oct 16: 16 of 31 days
        (NOV, None, "openai", "business"): 90.0,
    }
    assert ledger[(NOV, "Bob King", "github", "business")]["team"] == "ml"      # moved on Nov 1
    assert ledger[(OCT, "Bob King", "github", "business")]["team"] == "data"
    assert ledger[(NOV, "carol", "github", "enterprise")]["is_mapped"] is False
    assert ledger[(NOV, None, "openai", "business")]["is_mapped"] is None and ledger[
        (NOV, None, "openai", "business")]["seats"] == 3
    # October's ChatGPT seats are on a loaded bill: budgets already count them there
    assert ledger[(OCT, None, "openai", "business")]["seat_on_invoice"] is True
    assert ledger[(OCT, None, "openai", "business")]["not_on_bills_usd"] == 0.0
    assert ledger[(NOV, None, "openai", "business")]["not_on_bills_usd"] == 90.0


def test_use_meets_the_seat_it_belongs_to(ledger):
    ana = ledger[(NOV, "Ana Lima", "anthropic", "max_20x")]
    # local logs ($6.00, 2 sessions) and the Claude Code report (1M in x $3 + 100k out x $15 = $4.50, 3 sessions)
    # count the same work: the larger of each is kept, never the sum
    assert (ana["api_equivalent_usd"], ana["sessions"], ana["requests"]) == (6.0, 3, 40)
    assert (ana["lines_added"], ana["lines_removed"], ana["commits"], ana["pull_requests"]) == (100, 10, 2, 1)
    assert (ana["active_days"], ana["last_activity_day"], ana["usage_cost_usd"]) == (1, date(2026, 11, 3), None)
    assert (ana["plan_price_usd"], ana["next_plan"], ana["plan_fit"]) == (200.0, None, "underused")  # $6 < $200
    bob_cc = ledger[(NOV, "Bob King", "anthropic", "api")]  # billed per token: no seat, plan api
    assert bob_cc["api_equivalent_usd"] == pytest.approx(200_000 * 3e-6 + 20_000 * 15e-6)  # $0.90
    assert (bob_cc["usage_cost_usd"], bob_cc["usage_cost_basis"], bob_cc["seats"]) == (0.95, "vendor_estimate", 0)
    bob_app = ledger[(NOV, "Bob King", "openai", "api")]
    assert (bob_app["usage_cost_usd"], bob_app["usage_cost_basis"], bob_app["requests"], bob_app["team"]) == (
        2.5, "logs", 10, "ml")
    assert not any(k[1] == "customer-123" for k in ledger)  # an application's end user is not in the ledger
    org = ledger[(NOV, None, "github", None)]
    assert (org["usage_cost_usd"], org["usage_cost_basis"], org["seats"]) == (8.0, "invoice", 0)


def test_idle_seats_only_where_a_source_watches(ledger):
    idle = {(k[0], k[1], k[2]): v["is_idle_seat"] for k, v in ledger.items() if v["seats"] and k[1]}
    assert idle == {
        # Copilot's last activity (Sep 30) says nothing before it: August unknown, September active, then idle
        (AUG, "Bob King", "github"): None, (SEP, "Bob King", "github"): False,
        (OCT, "Bob King", "github"): True, (NOV, "Bob King", "github"): True,
        # Ana was last active Nov 18: earlier months cannot be told
        (SEP, "Ana Lima", "github"): None, (OCT, "Ana Lima", "github"): None, (NOV, "Ana Lima", "github"): False,
        (NOV, "carol", "github"): None,   # a seat of 11 days is too new to call idle
        (OCT, "dave", "github"): True, (NOV, "dave", "github"): True,  # never used since Oct 1
        # Claude Code analytics starts on Nov 3: October cannot be told; November shows her sessions
        (OCT, "Ana Lima", "anthropic"): None, (NOV, "Ana Lima", "anthropic"): False,
    }
    assert ledger[(NOV, "Ana Lima", "anthropic", "max_20x")]["activity_evidence"] == (
        "Claude Code analytics; Claude Code logs (local)")
    assert ledger[(NOV, None, "openai", "business")]["is_idle_seat"] is None


def test_idle_seats_as_of_the_newest_day():
    frame = idle_seats(PEOPLE, SEATS, ACTIVITY, USAGE, sources_frame(KINDS), AS_OF).collect()
    # open on Nov 20: analima (active Nov 18), bobk (idle since Sep 30), carol (too new); dave left on the 19th
    assert frame.select("vendor", "plan", "person", "team", "identity", "last_activity_day", "days_idle",
                        "monthly_cost_usd", "evidence").rows() == [
        ("github", "business", "Bob King", "ml", "bobk", date(2026, 9, 30), 51, 19.0, "Copilot seat last activity")]


def test_agent_logs_without_people_or_seat_are_a_solo_founders_api_bill():
    """No people file, no seat: the machine user is the person and the agent's use was billed per token."""
    usage = pl.LazyFrame([("solo", date(2026, 11, 3), "anthropic", "laptop", 12, 2, 3.25, 100),
                          ("solo", date(2026, 11, 4), "anthropic", "laptop", 3, 1, 1.0, 0)],
                         schema=USAGE.collect_schema(), orient="row")
    frame = person_monthly(people([]), seats([]), person_activity([]), usage, ORG.head(0), BILLED_SEATS.head(0),
                           sources_frame({"laptop": "claude_code_logs"}), PRICES_TABLE, AS_OF).collect()
    assert frame.select("person", "is_mapped", "vendor", "plan", "seats", "usage_cost_usd", "usage_cost_basis",
                        "api_equivalent_usd", "unpriced_tokens", "active_days", "sessions", "plan_fit").rows() == [
        ("solo", False, "anthropic", "api", 0, 4.25, "logs", 4.25, 100, 2, 3, None)]


@pytest.mark.parametrize("value, overage, fit", [(150.0, 0.0, "outgrown"), (50.0, 0.0, "fits"), (5.0, 0.0, "underused"),
                                                 (15.0, 0.0, "fits"), (5.0, 60.0, "outgrown"), (None, 0.0, None)])
def test_plan_fit_weighs_value_against_this_and_the_next_plan(value, overage, fit):
    """Claude Pro is $20, the next plan (Max 5x) $100. November has data to the 20th (as_of): 20 of 30 days, so
    the month's use so far counts x 1.5 before it meets monthly prices. $150 -> $225: outgrown; $50 -> $75: fits;
    $5 -> $7.50: underused; $15 -> $22.50: fits (unprojected it would look underused); $5 of value but $60 of
    overage -> $20 seat + $90 = $110 paid, more than the next plan: outgrown; no value known: cannot be told."""
    usage = pl.LazyFrame([("x@acme.com", date(2026, 11, 3), "anthropic", "laptop", 1, 1, value, 0)],
                         schema=USAGE.collect_schema(), orient="row")
    pro = seats([{"vendor": "anthropic", "plan": "pro", "identity": "x@acme.com", "monthly_price": 20.0,
                  "start_date": NOV}])
    spend = person_activity([{"day": NOV, "vendor": "anthropic", "tool": "claude_code", "record": "spend",
                              "identity": "x@acme.com", "billed_usd": overage}], x_source="report")
    frame = person_monthly(people([]), pro, spend, usage, ORG.head(0), BILLED_SEATS.head(0),
                           sources_frame({"laptop": "claude_code_logs"}), PRICES_TABLE, AS_OF).collect()
    row = frame.filter(pl.col("person") == "x@acme.com").row(0, named=True)
    assert (row["plan"], row["plan_price_usd"], row["next_plan_price_usd"], row["plan_fit"]) == ("pro", 20.0, 100.0, fit)
