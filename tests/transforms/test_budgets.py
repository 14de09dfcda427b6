"""budget_status on a tiny hand-made frame; expected values worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.config import BudgetConfig
from pipelines.transforms.budgets import budget_status
from tests.transforms.test_forecast import AS_OF, DAILY

# The daily spend (see tests/transforms/test_forecast.py), October 2026 to the 5th, 26 days remaining, 4-day window:
#   everything: actual 22, forecast 152 (84.4 .. 219.6), 5 unpriced requests (3 aws + 2 google)
#   openai:     actual 18, forecast 96 (18 .. 215.6)
#   aws:        actual 4, forecast 108, 3 unpriced requests
#   team g:     nothing priced: actual unknown, 2 unpriced requests
BUDGETS = [
    BudgetConfig(name="all", monthly_usd=150),
    BudgetConfig(name="openai", monthly_usd=20, provider="openai"),
    BudgetConfig(name="aws", monthly_usd=4, provider="aws"),
    BudgetConfig(name="team-a-aws", monthly_usd=50, team="a", provider="aws"),  # team a never used aws
    BudgetConfig(name="g", monthly_usd=10, team="g"),
]


def test_budget_status():
    got = budget_status(BUDGETS, DAILY, AS_OF, trailing_days=4).collect()
    n = None
    expected = pl.DataFrame(
        {
            "budget": ["all", "aws", "g", "openai", "team-a-aws"],
            "team": [n, n, "g", n, "a"],
            "provider": [n, "aws", n, "openai", "aws"],
            "monthly_usd": [150.0, 4.0, 10.0, 20.0, 50.0],
            "month": date(2026, 10, 1),
            "as_of": AS_OF,
            "cost_basis": "priced_usage",
            "actual_usd": [22.0, 4.0, n, 18.0, 0.0],
            "forecast_usd": [152.0, 108.0, n, 96.0, 0.0],
            "forecast_low_usd": [84.4, 108.0, n, 18.0, 0.0],
            "forecast_high_usd": [219.6, 108.0, n, 215.6, 0.0],
            # 22/150 = 14.67%, 152/150 = 101.33%; 4/4 = 100%, 108/4 = 2700%; 18/20 = 90%, 96/20 = 480%
            "actual_pct": [100 * 22 / 150, 100.0, n, 90.0, 0.0],
            "forecast_pct": [100 * 152 / 150, 2700.0, n, 480.0, 0.0],
            "thresholds_reached": [[], [50, 80, 100], [], [50, 80], []],
            "highest_threshold_pct": [n, 100, n, 80, n],
            "forecast_over_budget": [True, True, n, True, False],
            # all: under 80% but heading over -> warning; aws at 100% -> over; openai 90% -> warning
            "status": ["warning", "over", "unknown", "warning", "ok"],
            "unpriced_requests": [5, 3, 2, 0, 0],
        },
        schema_overrides={"team": pl.String, "thresholds_reached": pl.List(pl.Int64),
                          "highest_threshold_pct": pl.Int64, "actual_usd": pl.Float64, "forecast_usd": pl.Float64,
                          "forecast_low_usd": pl.Float64, "forecast_high_usd": pl.Float64,
                          "actual_pct": pl.Float64, "forecast_pct": pl.Float64, "forecast_over_budget": pl.Boolean},
    )
    assert_frame_equal(got, expected, abs_tol=1e-9)


def test_budget_without_unpriced_column_and_no_spend_at_all():
    daily = pl.LazyFrame(schema={"day": pl.Date, "provider": pl.String, "team": pl.String, "cost_usd": pl.Float64})
    got = budget_status([BudgetConfig(name="b", monthly_usd=10)], daily, AS_OF).collect()
    assert got.select("actual_usd", "forecast_usd", "status", "unpriced_requests").row(0) == (0.0, 0.0, "ok", 0)
