"""The People & seats queries over the hand-made snapshot (tests/support/snapshots.py, PEOPLE_SQL), expected
values worked out from its four person_monthly rows and one idle seat."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import data
from tests.support.snapshots import LAST_DAY, write_snapshot

MARCH = data.Filters(data.Period(date(2026, 3, 2), LAST_DAY))


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return write_snapshot(tmp_path_factory.mktemp("dash-people"))


def test_vendor_costs_divide_by_the_people_active(snapshot):
    rows = {r["vendor"]: r for r in data.vendor_costs(snapshot, MARCH).iter_rows(named=True)}
    # GitHub: Ana's and Bob's seats, $19 each; only Ana was active (Bob's seat is idle): $38 / 1
    assert (rows["github"]["seat_cost_usd"], rows["github"]["active_people"], rows["github"]["people_with_seats"],
            rows["github"]["cost_per_active_person_usd"]) == (38.0, 1, 2, 38.0)
    # OpenAI: three pooled seats ($90) and Ana's API use ($4.50); Ana is the one active person: $94.50
    assert (rows["openai"]["seat_cost_usd"], rows["openai"]["usage_cost_usd"], rows["openai"]["active_people"],
            rows["openai"]["cost_per_active_person_usd"]) == (90.0, 4.5, 1, 94.5)


def test_people_spend_totals_and_the_organization(snapshot):
    rows = {r["person"]: r for r in data.people_spend(snapshot, MARCH).iter_rows(named=True)}
    assert (rows[None]["total_usd"], rows["Ana Lima"]["total_usd"], rows["Bob King"]["total_usd"]) == (90.0, 23.5, 19.0)
    assert rows["Bob King"]["has_idle_seat"] and not rows["Ana Lima"]["has_idle_seat"]
    totals = data.people_totals(snapshot, MARCH).row(0, named=True)
    assert (totals["seat_cost_usd"], totals["usage_cost_usd"], totals["not_on_bills_usd"]) == (128.0, 4.5, 128.0)


def test_a_person_and_a_team_narrow_every_query(snapshot):
    ana = data.Filters(MARCH.period, person="Ana Lima")
    assert data.people_ledger(snapshot, ana)["person"].unique().to_list() == ["Ana Lima"]
    assert data.plan_fit(snapshot, MARCH).select("person", "plan_fit").rows() == [("Ana Lima", "underused")]
    assert data.idle_seats(snapshot, ana).height == 0 and data.idle_seats(snapshot, MARCH).height == 1
    assert data.people_spend(snapshot, data.Filters(MARCH.period, team="sales")).height == 0
    # months: a period of a few days in March still shows March
    assert data.people_totals(snapshot, data.Filters(data.Period(date(2026, 3, 20), date(2026, 3, 21)))).row(
        0, named=True)["seat_cost_usd"] == 128.0
    assert data.seats_off_bills(snapshot, MARCH).row(0, named=True)["not_on_bills_usd"] == 128.0
    github = data.Filters(MARCH.period, provider="github")
    assert data.seats_off_bills(snapshot, github).row(0, named=True)["not_on_bills_usd"] == 38.0
