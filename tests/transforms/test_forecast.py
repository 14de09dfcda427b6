"""forecast_month_end on a tiny hand-made frame; every expected value is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.transforms.forecast import forecast_month_end

AS_OF = date(2026, 10, 5)  # October has 31 days: 26 remain after the 5th

DAILY = pl.LazyFrame(
    [
        # openai / team a: known since Sep 1 (so its window is the full 4 days, Oct 2 .. Oct 5)
        dict(day=date(2026, 9, 1), provider="openai", team="a", cost_usd=50.0, unpriced_requests=0),
        dict(day=date(2026, 9, 30), provider="openai", team="a", cost_usd=8.0, unpriced_requests=0),
        dict(day=date(2026, 10, 1), provider="openai", team="a", cost_usd=2.0, unpriced_requests=0),
        dict(day=date(2026, 10, 3), provider="openai", team="a", cost_usd=6.0, unpriced_requests=0),
        dict(day=date(2026, 10, 5), provider="openai", team="a", cost_usd=10.0, unpriced_requests=0),
        dict(day=date(2026, 10, 6), provider="openai", team="a", cost_usd=1000.0, unpriced_requests=0),  # after as_of
        # aws / no team: first seen Oct 4; Oct 5 only unpriced requests
        dict(day=date(2026, 10, 4), provider="aws", team=None, cost_usd=4.0, unpriced_requests=0),
        dict(day=date(2026, 10, 5), provider="aws", team=None, cost_usd=None, unpriced_requests=3),
        # google / team g: nothing priced at all
        dict(day=date(2026, 10, 3), provider="google", team="g", cost_usd=None, unpriced_requests=2),
    ],
    schema={"day": pl.Date, "provider": pl.String, "team": pl.String, "cost_usd": pl.Float64,
            "unpriced_requests": pl.Int64},
)


def test_forecast_per_scope():
    got = forecast_month_end(DAILY, AS_OF, trailing_days=4).collect()
    # total: Oct 1..5 = 2, -, 6, 4, 10 (+NULL) -> actual 22. Window Oct 2..5 = [0, 6, 4, 10] sorted [0,4,6,10]:
    #   median 5, p20 at position 0.6 = 0.6*4 = 2.4, p80 at 2.4 = 6 + 0.4*4 = 7.6.
    #   forecast 22 + 26*5 = 152, low 22 + 26*2.4 = 84.4, high 22 + 26*7.6 = 219.6
    # openai = team a: actual 2+6+10 = 18. Window [0, 6, 0, 10] sorted [0,0,6,10]: median 3, p20 0,
    #   p80 6 + 0.4*4 = 7.6. Forecast 18 + 78 = 96, low 18, high 18 + 197.6 = 215.6
    # aws = team NULL: window starts at its first day Oct 4: [4, NULL] -> 1 known day: median = p20 = p80 = 4.
    #   actual 4, forecast 4 + 104 = 108
    # google = team g: window Oct 3..5 = [NULL, 0, 0]: median 0; actual NULL (nothing priced) -> forecasts NULL
    n = None
    expected = pl.DataFrame(
        {
            "month": date(2026, 10, 1),
            "as_of": AS_OF,
            "scope": ["total", "provider", "provider", "provider", "team", "team", "team"],
            "scope_value": [n, "aws", "google", "openai", "a", "g", n],
            "days_elapsed": 5,
            "days_remaining": 26,
            "actual_usd": [22.0, 4.0, n, 18.0, 18.0, n, 4.0],
            "window_days": [4, 2, 3, 4, 4, 3, 2],
            "daily_median_usd": [5.0, 4.0, 0.0, 3.0, 3.0, 0.0, 4.0],
            "daily_low_usd": [2.4, 4.0, 0.0, 0.0, 0.0, 0.0, 4.0],
            "daily_high_usd": [7.6, 4.0, 0.0, 7.6, 7.6, 0.0, 4.0],
            "forecast_usd": [152.0, 108.0, n, 96.0, 96.0, n, 108.0],
            "forecast_low_usd": [84.4, 108.0, n, 18.0, 18.0, n, 108.0],
            "forecast_high_usd": [219.6, 108.0, n, 215.6, 215.6, n, 108.0],
        },
        schema_overrides={"window_days": pl.Int64, "days_elapsed": pl.Int64, "days_remaining": pl.Int64},
    )
    assert_frame_equal(got, expected, abs_tol=1e-9)


def test_last_day_of_month_forecast_is_actual():
    got = forecast_month_end(DAILY, date(2026, 9, 30), trailing_days=4, scopes=("total",)).collect()
    # September: 50 + 8 = 58 actual, 0 days remain
    assert got.select("actual_usd", "days_remaining", "forecast_usd", "forecast_low_usd", "forecast_high_usd").row(0) == (
        58.0, 0, 58.0, 58.0, 58.0)
