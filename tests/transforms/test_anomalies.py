"""anomalies and spend_by_day on tiny hand-made frames; expected values worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.schemas import USAGE_EVENTS, conform
from pipelines.transforms.anomalies import anomalies, spend_by_day

K = 0.6745


def _d(day: int) -> date:
    return date(2026, 1, day)


def _daily(provider: str, model: str, team: str | None, costs: dict[int, float | None]) -> list[dict]:
    return [dict(day=_d(d), provider=provider, model=model, team=team, cost_usd=c) for d, c in costs.items()]


DAILY = pl.LazyFrame(
    # A: ordinary noise, a spike on day 5, no requests at all on day 6 (absent: $0).
    _daily("openai", "m", "t", {1: 10.0, 2: 12.0, 3: 11.0, 4: 13.0, 5: 40.0})
    # B: first seen on day 6; it sets the data's last day.
    + _daily("aws", "x", None, {6: 5.0})
    # C: flat $100 (MAD 0: the 5% floor applies), then $130.
    + _daily("anthropic", "c", "t", {1: 100.0, 2: 100.0, 3: 100.0, 4: 100.0, 5: 100.0, 6: 130.0})
    # D: cents; day 3 all unpriced (NULL); day 6 quintuples, but by 40 cents only.
    + _daily("google", "g", "t", {1: 0.1, 2: 0.1, 3: None, 4: 0.1, 5: 0.1, 6: 0.5}),
    schema={"day": pl.Date, "provider": pl.String, "model": pl.String, "team": pl.String, "cost_usd": pl.Float64},
)


def _expected(provider, model, team, days, cost, baseline, mad, history, score, direction) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "day": [_d(d) for d in days],
            "provider": provider,
            "model": model,
            "team": team,
            "cost_usd": cost,
            "baseline_usd": baseline,
            "mad_usd": mad,
            "history_days": history,
            "score": score,
            "is_anomaly": [d is not None for d in direction],
            "direction": direction,
        },
        schema_overrides={"team": pl.String, "baseline_usd": pl.Float64, "mad_usd": pl.Float64,
                          "score": pl.Float64, "direction": pl.String, "cost_usd": pl.Float64},
    )


def _got(provider: str) -> pl.DataFrame:
    out = anomalies(DAILY, window_days=4, min_history=3, weekly_season=False).collect()
    return out.filter(pl.col("provider") == provider)


def test_spike_and_drop_against_median_and_mad():
    expected = _expected(
        "openai", "m", "t", [1, 2, 3, 4, 5, 6],
        cost=[10.0, 12.0, 11.0, 13.0, 40.0, 0.0],
        # d4: window [10,12,11] median 11, |dev| [1,1,0] MAD 1: 0.6745*(13-11)/1
        # d5: window [10,12,11,13] median 11.5, |dev| [1.5,.5,.5,1.5] MAD 1: 0.6745*28.5 = 19.22 -> spike
        # d6: window [12,11,13,40] median 12.5, |dev| [.5,1.5,.5,27.5] MAD 1: 0.6745*(0-12.5) = -8.43 -> drop
        baseline=[None, None, None, 11.0, 11.5, 12.5],
        mad=[None, None, None, 1.0, 1.0, 1.0],
        history=[0, 1, 2, 3, 4, 4],
        score=[None, None, None, K * 2, K * 28.5, K * -12.5],
        direction=[None, None, None, None, "spike", "drop"],
    )
    assert_frame_equal(_got("openai"), expected)


def test_new_key_has_no_history():
    expected = _expected("aws", "x", None, [6], [5.0], [None], [None], [0], [None], [None])
    assert_frame_equal(_got("aws"), expected)


def test_zero_mad_uses_five_percent_of_median_floor():
    expected = _expected(
        "anthropic", "c", "t", [1, 2, 3, 4, 5, 6],
        cost=[100.0] * 5 + [130.0],
        # MAD 0, floor 5% of 100 = 5: day 6 scores 0.6745*30/5 = 4.05 -> spike
        baseline=[None, None, None, 100.0, 100.0, 100.0],
        mad=[None, None, None, 0.0, 0.0, 0.0],
        history=[0, 1, 2, 3, 4, 4],
        score=[None, None, None, 0.0, 0.0, K * 30 / 5],
        direction=[None] * 5 + ["spike"],
    )
    assert_frame_equal(_got("anthropic"), expected)


def test_unpriced_day_unscored_and_cents_not_material():
    expected = _expected(
        "google", "g", "t", [1, 2, 3, 4, 5, 6],
        cost=[0.1, 0.1, None, 0.1, 0.1, 0.5],
        # d4: window [.1,.1,NULL] has 2 known days < 3: unscored. d5: [.1,.1,NULL,.1] 3 known, MAD 0.
        # d6: floor max(0, 5% of 0.1, $0.01) = 0.01: 0.6745*0.4/0.01 = 26.98, but |0.5-0.1| < $1: not flagged.
        baseline=[None, None, None, None, 0.1, 0.1],
        mad=[None, None, None, None, 0.0, 0.0],
        history=[0, 1, 2, 2, 3, 3],
        score=[None, None, None, None, 0.0, K * 0.4 / 0.01],
        direction=[None] * 6,
    )
    assert_frame_equal(_got("google"), expected, abs_tol=1e-9)


def test_weekend_measured_against_weekends():
    # Mon 2026-08-31 .. Fri 2026-10-02: weekdays $10, weekends $2; then Saturday 2026-10-03 at $2.
    days = [date(2026, 8, 31) + timedelta(days=i) for i in range(34)]
    frame = pl.LazyFrame({
        "day": days, "provider": "openai", "model": "m", "team": "t",
        "cost_usd": [2.0 if d.weekday() >= 5 else 10.0 for d in days],
    })
    seasonal = anomalies(frame).collect().filter(pl.col("day") == date(2026, 10, 3))
    # Same kind of day: the window Sep 5 .. Oct 2 holds 8 weekend days of $2 -> median 2, score 0.
    assert seasonal.select("baseline_usd", "history_days", "score", "is_anomaly").row(0) == (2.0, 8, 0.0, False)
    flat = anomalies(frame, weekly_season=False).collect().filter(pl.col("day") == date(2026, 10, 3))
    # All 28 days: median 10, MAD 0 (20 of 28 deviations are 0), floor 0.5: 0.6745*(2-10)/0.5 = -10.79 -> drop
    assert flat.select("baseline_usd", "history_days", "direction").row(0) == (10.0, 28, "drop")
    assert abs(flat["score"][0] - K * -8 / 0.5) < 1e-9


def test_key_stops_after_window_of_zeros():
    # A key last seen on day 1; the data runs to day 10 through another key; window 3 -> rows day 1..4 only.
    frame = pl.LazyFrame({"day": [_d(1), _d(10)], "provider": ["a", "b"], "model": "m", "team": "t",
                          "cost_usd": [5.0, 1.0]})
    got = anomalies(frame, window_days=3, min_history=1, weekly_season=False).collect().filter(pl.col("provider") == "a")
    assert got["day"].to_list() == [_d(1), _d(2), _d(3), _d(4)]
    assert got["cost_usd"].to_list() == [5.0, 0.0, 0.0, 0.0]


def test_spend_by_day_sums_priced_and_counts_unpriced():
    base = dict(raw_model="r", task="t", input_tokens=0, cache_read_tokens=0, cache_write_tokens=0,
                output_tokens=0, reasoning_tokens=0, is_batch=False, status="ok", x_source="s", x_source_file="f")
    rows = [
        dict(event_time=datetime(2026, 1, 1, 9), provider="openai", model="m", team="a", request_count=1, cost_usd=0.5),
        dict(event_time=datetime(2026, 1, 1, 23), provider="openai", model="m", team="a", request_count=2, cost_usd=0.25),
        dict(event_time=datetime(2026, 1, 1, 10), provider="openai", model="m", team="a", request_count=1, cost_usd=None),
        dict(event_time=datetime(2026, 1, 2, 0), provider="openai", model="new", team=None, request_count=4, cost_usd=None),
    ]
    usage = conform(pl.LazyFrame([{**base, **r} for r in rows]), USAGE_EVENTS)
    expected = pl.DataFrame({
        "day": [_d(1), _d(2)], "provider": ["openai", "openai"], "model": ["m", "new"], "team": ["a", None],
        "cost_usd": [0.75, None],  # 0.5 + 0.25; day 2 all unpriced: NULL, not $0
        "requests": [4, 4], "unpriced_requests": [1, 4],
    }, schema_overrides={"cost_usd": pl.Float64})
    assert_frame_equal(spend_by_day(usage).collect(), expected)
