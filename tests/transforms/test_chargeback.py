"""chargeback: each rule worked out by hand in whole cents, and on random months the teams always add up to the
month's AI spend exactly (integer cents), whatever the amounts."""

from __future__ import annotations

import random
from datetime import date

import polars as pl
import pytest

from pipelines.transforms.chargeback import chargeback

OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


def figures(rows: list[tuple], month: date = OCT, currency: str = "USD", closed: bool = False) -> pl.LazyFrame:
    """(task, team, billed) rows; effective is billed / 2 so the basis switch is visible."""
    return pl.LazyFrame(
        [{"month": month, "task": t, "team": team, "billed_cost": b, "effective_cost": b / 2, "currency": currency,
          "is_closed": closed} for t, team, b in rows],
        schema={"month": pl.Date, "task": pl.String, "team": pl.String, "billed_cost": pl.Float64,
                "effective_cost": pl.Float64, "currency": pl.String, "is_closed": pl.Boolean},
    )


NO_SEATS = pl.LazyFrame(schema={"month": pl.Date, "team": pl.String, "cost": pl.Float64, "currency": pl.String,
                                "is_closed": pl.Boolean})

# The month's AI spend: 33.333 + 66.667 + 0.004 + 10 + 1 + 0.5 = 111.504 -> 11150 cents.
# Direct, each rounded: support 3333, search 6667, sales 0 -> 10000; the shared pool is 11150 - 10000 = 1150 cents:
# GPU (10.00), requests that named no task (1.00, team support) and requests that named no team (0.50).
OCTOBER = figures([
    ("summarize", "support", 33.333),
    ("research", "search", 66.667),
    ("draft", "sales", 0.004),
    ("unattributed", None, 10.0),
    ("unattributed", "support", 1.0),
    ("summarize", None, 0.5),
])


def table(frame: pl.LazyFrame) -> dict:
    rows = frame.collect()
    return {r["team"]: (round(r["direct_cost"] * 100), round(r["shared_cost"] * 100), round(r["total_cost"] * 100))
            for r in rows.iter_rows(named=True)}


def test_proportional_spreads_by_direct_cost_with_largest_remainders():
    # Exact cents of the pool: 1150 x 33.333/100.004 = 383.31, x 66.667/100.004 = 766.64, x 0.004/100.004 = 0.05;
    # floors 383 + 766 + 0 = 1149, the one cent left goes to the largest remainder (search, .64).
    got = table(chargeback(OCTOBER, NO_SEATS, rule="proportional"))
    assert got == {"sales": (0, 0, 0), "search": (6667, 767, 7434), "support": (3333, 383, 3716)}
    assert sum(t for _, _, t in got.values()) == 11150


def test_even_splits_the_pool_and_the_odd_cent_goes_to_the_first_team():
    # 1150 / 3 = 383.33 each: 1149 in floors, the remaining cent to the first team in name order (sales).
    got = table(chargeback(OCTOBER, NO_SEATS, rule="even"))
    assert got == {"sales": (0, 384, 384), "search": (6667, 383, 7050), "support": (3333, 383, 3716)}


def test_owner_takes_the_whole_pool_even_with_no_direct_cost():
    got = table(chargeback(OCTOBER, NO_SEATS, rule="owner", owner="platform"))
    assert got == {"platform": (0, 1150, 1150), "sales": (0, 0, 0), "search": (6667, 0, 6667),
                   "support": (3333, 0, 3333)}


def test_columns_cost_centers_basis_seats_and_a_month_with_no_team():
    seats = pl.LazyFrame({"month": [OCT, OCT, DEC], "team": ["support", "design", "design"], "cost": [19.0, 25.0, 9.5],
                          "currency": ["USD"] * 3, "is_closed": [False] * 3})
    frame = pl.concat([OCTOBER, figures([("unattributed", None, 4.0)], month=NOV, closed=True)])
    got = chargeback(frame, seats, rule="even", cost_basis="effective", cost_centers={"support": "CC-1"}).collect()
    oct_rows = {r["team"]: r for r in got.filter(pl.col("month") == OCT).iter_rows(named=True)}
    assert oct_rows["support"]["cost_center"] == "CC-1" and oct_rows["search"]["cost_center"] is None
    assert oct_rows["design"]["seats_cost"] == 25.0 and oct_rows["support"]["seats_cost"] == 19.0
    # Effective basis: half of every figure, 55.752 -> 5575 cents, plus 44.00 of seats.
    assert round(sum(r["total_cost"] for r in oct_rows.values()) * 100) == 5575 + 4400
    nov = got.filter(pl.col("month") == NOV).to_dicts()
    assert len(nov) == 1 and nov[0]["team"] is None and nov[0]["shared_cost"] == 2.0 and nov[0]["is_closed"]
    # December has only a seat: its team carries it, the month adds up to it.
    dec = got.filter(pl.col("month") == DEC).to_dicts()
    assert [(r["team"], r["seats_cost"], r["total_cost"], r["currency"]) for r in dec] == [("design", 9.5, 9.5, "USD")]
    assert set(got["rule"]) == {"even"} and set(got["cost_basis"]) == {"effective"}


def test_whole_units_for_a_currency_without_cents():
    frame = figures([("a", "x", 100.4), ("b", "y", 200.4), ("unattributed", None, 1.0)], currency="JPY")
    got = chargeback(frame, NO_SEATS, rule="even", minor_units={"JPY": 0}).collect()
    assert got["total_cost"].to_list() == [101.0, 201.0]  # 302 yen: 100 + 200 direct, the 2 left split evenly
    assert got["currency"].unique().to_list() == ["JPY"]


@pytest.mark.parametrize("rule", ["proportional", "even", "owner"])
def test_teams_always_add_up_to_the_month_in_integer_cents(rule):
    rng = random.Random(7)
    rows = []
    for month in (date(2026, m, 1) for m in range(1, 13)):
        for _ in range(rng.randint(1, 40)):
            task = rng.choice(["a", "b", "c", "unattributed"])
            team = rng.choice(["t1", "t2", "t3", "t4", None])
            rows.append({"month": month, "task": task, "team": team, "billed_cost": rng.uniform(-5, 300),
                         "effective_cost": rng.uniform(0, 300), "currency": "EUR", "is_closed": False})
    frame = pl.LazyFrame(rows)
    got = chargeback(frame, NO_SEATS, rule=rule, owner="t9").collect()
    spend = frame.group_by("month").agg(pl.col("billed_cost").sum()).collect()
    for month, total in spend.iter_rows():
        teams = got.filter(pl.col("month") == month)
        cents = [round(v * 100) for v in teams["total_cost"]]
        assert sum(cents) == round(total * 100), (rule, month)
        for r in teams.iter_rows(named=True):
            assert round(r["direct_cost"] * 100) + round(r["seats_cost"] * 100) + round(r["shared_cost"] * 100) \
                == round(r["total_cost"] * 100)
