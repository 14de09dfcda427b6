"""month_to_date: invoiced so far and, apart, the expected rest, with every figure worked out by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipelines.transforms.accrual import month_to_date

D = date


def allocated(rows: list[tuple]) -> pl.LazyFrame:
    return pl.LazyFrame([{"day": d, "provider": p, "basis": b, "billed_cost_usd": c} for d, p, b, c in rows],
                        schema={"day": pl.Date, "provider": pl.String, "basis": pl.String,
                                "billed_cost_usd": pl.Float64})


def usage(rows: list[tuple]) -> pl.LazyFrame:
    return pl.LazyFrame([{"day": d, "provider": p, "cost_usd": c, "unpriced_requests": u} for d, p, c, u in rows],
                        schema={"day": pl.Date, "provider": pl.String, "cost_usd": pl.Float64,
                                "unpriced_requests": pl.Int64})


ALLOCATED = allocated([
    # openai: August and September closed (below), October open to the 20th
    (D(2026, 8, 5), "openai", "usage_share", 100.0), (D(2026, 9, 5), "openai", "usage_share", 90.0),
    (D(2026, 10, 5), "openai", "usage_share", 50.0), (D(2026, 10, 15), "openai", "logs_only", 30.0),
    # anthropic: nothing closed, September complete; October has no invoice yet
    (D(2026, 9, 9), "anthropic", "usage_share", 40.0), (D(2026, 10, 20), "anthropic", "logs_only", 10.0),
    (D(2026, 9, 30), "anthropic", "credit", -25.0),  # a credit: not in the ratio either
    # google: new this month, logs only and partly unpriced
    (D(2026, 10, 12), "google", "logs_only", 5.0), (D(2026, 10, 13), "google", "logs_only", None),
])
USAGE = usage([
    (D(2026, 8, 5), "openai", 80.0, 0), (D(2026, 9, 5), "openai", 100.0, 0),
    (D(2026, 10, 5), "openai", 45.0, 2), (D(2026, 10, 15), "openai", 30.0, 4),
    (D(2026, 9, 9), "anthropic", 50.0, 0), (D(2026, 10, 20), "anthropic", 10.0, 0),
    (D(2026, 10, 12), "google", 5.0, 0), (D(2026, 10, 13), "google", None, 3),
])
# August also billed a GPU instance (not_model_usage): not request usage, so not in the invoice-to-logs ratio.
CLOSED = pl.LazyFrame({"month": [D(2026, 8, 1), D(2026, 9, 1), D(2026, 8, 1)], "provider": ["openai"] * 3,
                       "basis": ["usage_share", "usage_share", "not_model_usage"],
                       "billed_cost": [100.0, 90.0, 500.0]})


def rows(months: int = 3) -> dict[str, dict]:
    got = month_to_date(ALLOCATED, USAGE, CLOSED, D(2026, 10, 20), "EUR", months).collect()
    return {r["provider"]: r for r in got.iter_rows(named=True)}


def test_invoiced_and_expected_rest_per_provider():
    got = rows()
    openai = got["openai"]
    # ratio over the closed months: (100 + 90) / (80 + 100); low September 0.9, high August 1.25
    assert openai["invoiced_cost"] == 50.0 and openai["uninvoiced_logged_cost"] == 30.0
    assert openai["ratio"] == pytest.approx(190 / 180) and (openai["ratio_low"], openai["ratio_high"]) == (0.9, 1.25)
    assert openai["expected_rest"] == pytest.approx(30 * 190 / 180)
    assert (openai["expected_rest_low"], openai["expected_rest_high"]) == pytest.approx((27.0, 37.5))
    assert (openai["ratio_months"], openai["ratio_basis"], openai["unpriced_requests"]) == (2, "closed_months", 4)
    anthropic = got["anthropic"]  # nothing closed: September, complete, 40 / 50
    assert (anthropic["invoiced_cost"], anthropic["ratio"], anthropic["ratio_basis"]) == (0.0, 0.8, "complete_months")
    assert anthropic["expected_rest"] == pytest.approx(8.0)
    google = got["google"]  # no history: the logs' own price; the unpriced day is counted, never $0
    assert (google["ratio"], google["ratio_basis"], google["ratio_months"]) == (1.0, "none", 0)
    assert google["uninvoiced_logged_cost"] == 5.0 and google["unpriced_requests"] == 3
    assert {r["currency"] for r in got.values()} == {"EUR"} and {r["month"] for r in got.values()} == {D(2026, 10, 1)}


def test_only_the_most_recent_ratio_months_count():
    assert rows(months=1)["openai"]["ratio"] == pytest.approx(0.9)
