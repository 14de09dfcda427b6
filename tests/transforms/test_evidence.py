"""Measured time saved: work items, their links to requests, the comparison per task, its interval and verdict.

Means, variances and Welch's interval are worked out by hand in the comments; the interval's critical value is
scipy's t quantile at Welch's degrees of freedom (the formula written out here, not the library's ttest), and a
seeded simulation checks that a known effect is recovered inside the interval about 95% of the time.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy import stats

from pipelines.transforms.evidence import evidence_items, evidence_weekly, work_item_links
from pipelines.transforms.evidence_stats import mean_difference_interval, task_evidence
from pipelines.transforms.roi import task_daily, task_roi
from tests.support.builders import tasks, usage_events, work_items

LINKS_NONE = pl.LazyFrame(schema={"day": pl.Date, "work_item_id": pl.String, "task": pl.String,
                                  "requests": pl.Int64, "unpriced_requests": pl.Int64, "cost_usd": pl.Float64})
CATALOG = tasks([dict(task=t, hourly_rate_usd=60.0, review_minutes=1.0) for t in ("review", "costly", "flat", "few")])


def _welch(first: list[float], second: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Welch's interval from its formula: difference of means +- t(df) x standard error."""
    n1, n2 = len(first), len(second)
    v1, v2 = np.var(first, ddof=1), np.var(second, ddof=1)
    se2 = v1 / n1 + v2 / n2
    df = se2 ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    half = stats.t.ppf((1 + confidence) / 2, df) * math.sqrt(se2)
    diff = np.mean(first) - np.mean(second)
    return diff - half, diff + half


def test_welch_interval_by_hand():
    # baseline 10, 12, 14: mean 12, variance (4 + 0 + 4) / 2 = 4
    # AI 6, 7, 8, 9: mean 7.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3
    # se^2 = 4/3 + (5/3)/4 = 1.75; df = 1.75^2 / ((4/3)^2/2 + (5/12)^2/3) = 3.0625 / 0.9467593 = 3.2347
    df = 1.75 ** 2 / ((4 / 3) ** 2 / 2 + (5 / 12) ** 2 / 3)
    assert df == pytest.approx(3.2347, abs=1e-4)
    half = stats.t.ppf(0.975, df) * math.sqrt(1.75)
    low, high = mean_difference_interval([10, 12, 14], [6, 7, 8, 9], 0.95)
    assert (low, high) == pytest.approx((4.5 - half, 4.5 + half), abs=1e-9)
    assert (low, high) == pytest.approx(_welch([10, 12, 14], [6, 7, 8, 9]), abs=1e-9)
    assert low > 0
    # no interval from one value a side, nor from two sides with no spread at all
    assert mean_difference_interval([10, 12], [6], 0.95) == (None, None)
    assert mean_difference_interval([1, 1, 1], [0, 0, 0], 0.95) == (None, None)


def _items() -> pl.LazyFrame:
    """Four tasks, handling minutes; days chosen for the design each should show."""
    rows = []

    def add(task, minutes, ai, first_day, team="ops", **extra):
        for i, m in enumerate(minutes):
            day = first_day + timedelta(days=i)
            rows.append(dict(work_item_id=f"{task}-{ai}-{i}", task=task, closed_at=datetime.combine(
                day, datetime.min.time()) + timedelta(hours=10), handling_minutes=float(m), ai_assisted=ai,
                team=team, **extra))

    # review: every baseline item (Oct 5-7) before the first AI one (Oct 12): before_after
    add("review", [10, 12, 14], False, date(2026, 10, 5))
    add("review", [6, 7, 8, 9], True, date(2026, 10, 12))
    # costly: interleaved days: concurrent. baseline 5, 5, 6 (mean 16/3); AI 9, 10, 11 (mean 10)
    add("costly", [5, 5, 6], False, date(2026, 10, 5))
    add("costly", [9, 10, 11], True, date(2026, 10, 5))
    # flat: baseline 10, 20, 30 (mean 20); AI 15, 25, 20 (mean 20): the interval spans 0, three items a side
    add("flat", [10, 20, 30], False, date(2026, 10, 5))
    add("flat", [15, 25, 20], True, date(2026, 10, 6))
    # few: a single AI item: no interval
    add("few", [10, 30], False, date(2026, 10, 5))
    add("few", [12], True, date(2026, 10, 5))
    return work_items(rows)


def _evidence(**kwargs) -> pl.DataFrame:
    items = evidence_items(_items(), LINKS_NONE)
    daily = pl.LazyFrame({
        # review's period is Oct 5-15: 8 runs, $2 allocated inside it; the Oct 30 row falls outside
        "day": [date(2026, 10, 6), date(2026, 10, 13), date(2026, 10, 30)],
        "task": ["review"] * 3, "team": ["ops"] * 3, "runs": [3, 5, 100],
        "ai_cost_usd": [0.5, 1.0, 50.0], "allocated_cost_usd": [0.8, 1.2, 60.0],
    })
    return task_evidence(items, daily, CATALOG, min_items=3, **kwargs).collect()


def test_task_evidence_by_hand():
    got = _evidence()
    rows = {(r["task"], r["grain"]): r for r in got.to_dicts()}
    assert set(rows) == {(t, g) for t in ("review", "costly", "flat", "few") for g in ("task", "task_team")}

    r = rows[("review", "task")]
    assert (r["items_ai"], r["items_baseline"], r["team"]) == (4, 3, None)
    assert (r["mean_minutes_baseline"], r["mean_minutes_ai"], r["minutes_saved"]) == (12.0, 7.5, 4.5)
    assert (r["median_minutes_baseline"], r["median_minutes_ai"]) == (12.0, 7.5)
    low, high = _welch([10, 12, 14], [6, 7, 8, 9])
    assert (r["minutes_saved_low"], r["minutes_saved_high"]) == pytest.approx((low, high), abs=1e-9)
    assert (r["verdict"], r["method"], r["interval_method"], r["confidence"]) == (
        "saves_time", "before_after", "welch_t", 0.95)
    assert (r["first_ai_day"], r["period_start"], r["period_end"]) == (
        date(2026, 10, 12), date(2026, 10, 5), date(2026, 10, 15))
    assert r["minutes_basis"] == "handling" and r["items_linked"] == 0
    # money: allocated $0.80 + $1.20 = $2 in the period (not the Oct 30 row); review 8 runs x 1 min x $60/h = $8
    # net = 4 items x 4.5 min / 60 x $60 - 2 - 8 = 18 - 10 = $8; per AI item: $0.50 and $2
    assert (r["ai_cost_usd"], r["review_cost_usd"]) == pytest.approx((2.0, 8.0))
    assert (r["ai_cost_per_item_usd"], r["review_cost_per_item_usd"]) == pytest.approx((0.5, 2.0))
    assert r["measured_net_savings_usd"] == pytest.approx(8.0)
    assert (r["measured_net_savings_low_usd"], r["measured_net_savings_high_usd"]) == pytest.approx(
        (4 * low - 10, 4 * high - 10))
    # the team row is the same items
    team = rows[("review", "task_team")]
    assert team["team"] == "ops" and team["minutes_saved_low"] == pytest.approx(low)

    c = rows[("costly", "task")]
    # 16/3 - 10 = -14/3 saved; the whole interval is below 0
    assert c["minutes_saved"] == pytest.approx(-14 / 3)
    assert (c["minutes_saved_low"], c["minutes_saved_high"]) == pytest.approx(_welch([5, 5, 6], [9, 10, 11]))
    assert c["minutes_saved_high"] < 0
    assert (c["verdict"], c["method"]) == ("costs_time", "concurrent")
    # no runs in its period: no AI cost, no review
    assert (c["ai_cost_usd"], c["review_cost_usd"]) == (0.0, 0.0)

    f = rows[("flat", "task")]
    assert f["minutes_saved"] == 0.0 and f["minutes_saved_low"] < 0 < f["minutes_saved_high"]
    assert f["verdict"] == "no_measurable_difference"

    w = rows[("few", "task")]
    assert (w["minutes_saved"], w["minutes_saved_low"], w["verdict"]) == (8.0, None, "insufficient_evidence")


def test_spanning_zero_with_few_items_is_insufficient_not_no_difference():
    got = task_evidence(evidence_items(_items(), LINKS_NONE), pl.LazyFrame(schema={
        "day": pl.Date, "task": pl.String, "team": pl.String, "runs": pl.Int64, "ai_cost_usd": pl.Float64}),
        CATALOG, min_items=4).collect()
    verdicts = dict(got.filter(pl.col("grain") == "task").select("task", "verdict").iter_rows())
    # flat spans 0 with 3 items a side, below min_items 4; review and costly keep their verdicts
    assert verdicts == {"review": "saves_time", "costly": "costs_time", "flat": "insufficient_evidence",
                        "few": "insufficient_evidence"}
    # without allocated_cost_usd the logs' cost stands in; no rows: $0
    assert got["ai_cost_usd"].to_list() == [0.0] * got.height


def test_quality_changes_and_flag():
    rows = []
    for i in range(20):
        # reopened: 12 of 20 AI-assisted items, 1 of 20 baseline; CSAT 4 everywhere (no change, no spread)
        rows.append(dict(work_item_id=f"a{i}", task="review", closed_at=datetime(2026, 10, 1 + i % 20, 12),
                         handling_minutes=10.0 + i % 3, ai_assisted=True, reopened=i < 12, csat=4.0))
        rows.append(dict(work_item_id=f"b{i}", task="review", closed_at=datetime(2026, 10, 1 + i % 20, 12),
                         handling_minutes=20.0 + i % 3, ai_assisted=False, reopened=i == 0, csat=4.0))
    got = task_evidence(evidence_items(work_items(rows), LINKS_NONE), pl.LazyFrame(schema={
        "day": pl.Date, "task": pl.String, "team": pl.String, "runs": pl.Int64, "ai_cost_usd": pl.Float64}),
        CATALOG).collect().row(0, named=True)
    assert (got["reopen_rate_ai"], got["reopen_rate_baseline"]) == (0.6, 0.05)
    assert got["reopen_rate_change"] == pytest.approx(0.55)
    ai, base = [1.0] * 12 + [0.0] * 8, [1.0] + [0.0] * 19
    assert (got["reopen_rate_change_low"], got["reopen_rate_change_high"]) == pytest.approx(_welch(ai, base))
    assert got["reopen_rate_change_low"] > 0 and got["quality_flag"] == "reopened"
    assert (got["csat_ai"], got["csat_change"], got["csat_change_low"]) == (4.0, 0.0, None)
    assert got["escalation_rate_ai"] is None and got["verdict"] == "saves_time"


def test_a_known_effect_is_recovered_inside_the_interval():
    """Seeded simulation: AI-assisted items take 5 minutes less than baseline ones (skewed, unequal spreads)."""
    rng = np.random.default_rng(20261130)
    baseline = 25 + rng.lognormal(mean=1.5, sigma=0.6, size=300)
    ai = 20 + rng.lognormal(mean=1.5, sigma=0.4, size=250)
    true_effect = 5 + math.exp(1.5 + 0.6 ** 2 / 2) - math.exp(1.5 + 0.4 ** 2 / 2)  # lognormal means differ too
    rows = [dict(work_item_id=f"b{i}", task="review", closed_at=datetime(2026, 10, 1) + timedelta(hours=i),
                 handling_minutes=float(m), ai_assisted=False) for i, m in enumerate(baseline)]
    rows += [dict(work_item_id=f"a{i}", task="review", closed_at=datetime(2026, 10, 1) + timedelta(hours=i),
                  handling_minutes=float(m), ai_assisted=True) for i, m in enumerate(ai)]
    got = task_evidence(evidence_items(work_items(rows), LINKS_NONE), pl.LazyFrame(schema={
        "day": pl.Date, "task": pl.String, "team": pl.String, "runs": pl.Int64, "ai_cost_usd": pl.Float64}),
        CATALOG).collect().row(0, named=True)
    assert got["minutes_saved_low"] < true_effect < got["minutes_saved_high"]
    assert got["verdict"] == "saves_time" and got["method"] == "concurrent"

    # and over many seeded draws the 95% interval holds the true difference about 95% of the time
    hits = 0
    for _ in range(400):
        first, second = rng.normal(30, 8, 40), rng.normal(25, 4, 30)
        low, high = mean_difference_interval(first, second, 0.95)
        hits += low < 5 < high
    assert 0.92 <= hits / 400 <= 0.98


def test_ai_assistance_from_the_record_else_a_linked_request():
    items = work_items([
        dict(work_item_id="A", task="t", closed_at=datetime(2026, 10, 1, 12), opened_at=datetime(2026, 10, 1, 10)),
        dict(work_item_id="B", task="t", closed_at=datetime(2026, 10, 2, 12), opened_at=datetime(2026, 10, 2, 11),
             ai_assisted=False),
        dict(work_item_id="C", task="t", closed_at=datetime(2026, 10, 3, 12), opened_at=datetime(2026, 10, 3, 9)),
        dict(work_item_id="D", task="t", opened_at=datetime(2026, 10, 4, 9)),  # still open
    ])
    usage = usage_events([
        dict(event_time=datetime(2026, 10, 1, 10, 5), provider="openai", task="t", work_item_id="A", cost_usd=0.25),
        dict(event_time=datetime(2026, 10, 1, 10, 6), provider="openai", task="t", work_item_id="A", cost_usd=None),
        dict(event_time=datetime(2026, 10, 2, 11, 5), provider="openai", task="t", work_item_id="B", cost_usd=0.5),
        dict(event_time=datetime(2026, 10, 2, 11, 6), provider="openai", task="t", cost_usd=0.5),
    ])
    links = work_item_links(usage)
    assert_frame_equal(links.collect(), pl.DataFrame({
        "day": [date(2026, 10, 1), date(2026, 10, 2)], "work_item_id": ["A", "B"], "task": ["t", "t"],
        "requests": [2, 1], "unpriced_requests": [1, 0], "cost_usd": [0.25, 0.5]}), check_dtypes=False)
    got = {r["work_item_id"]: r for r in evidence_items(items, links).collect().to_dicts()}
    # A: no record, two requests named it -> AI-assisted by a linked run; elapsed 2 h = 120 min
    assert (got["A"]["ai_assisted"], got["A"]["ai_basis"], got["A"]["linked_requests"]) == (True, "linked_run", 2)
    assert (got["A"]["minutes_basis"], got["A"]["minutes"], got["A"]["linked_cost_usd"]) == ("elapsed", 120.0, 0.25)
    # B: the record says no, and the record wins over the request naming it
    assert (got["B"]["ai_assisted"], got["B"]["ai_basis"], got["B"]["minutes"]) == (False, "record", 60.0)
    # C: nothing either way -> baseline
    assert (got["C"]["ai_assisted"], got["C"]["ai_basis"], got["C"]["linked_requests"]) == (False, "none", 0)
    # D: open: counts on its opening day, with no minutes
    assert (got["D"]["day"], got["D"]["week"], got["D"]["minutes"]) == (date(2026, 10, 4), date(2026, 9, 28), None)


def test_handling_minutes_are_preferred_per_task_and_never_mixed_with_elapsed():
    items = work_items([
        dict(work_item_id="A", task="t", opened_at=datetime(2026, 10, 1, 9), closed_at=datetime(2026, 10, 1, 17),
             handling_minutes=30.0),
        dict(work_item_id="B", task="t", opened_at=datetime(2026, 10, 1, 9), closed_at=datetime(2026, 10, 1, 17)),
        dict(work_item_id="C", task="u", opened_at=datetime(2026, 10, 1, 9), closed_at=datetime(2026, 10, 1, 17)),
    ])
    got = {r["work_item_id"]: r for r in evidence_items(items, LINKS_NONE).collect().to_dicts()}
    # task t has handling minutes on one item: B (elapsed only) is not measured on t's basis
    assert [(got[k]["minutes_basis"], got[k]["minutes"]) for k in "ABC"] == [
        ("handling", 30.0), ("handling", None), ("elapsed", 480.0)]


def test_period_and_duplicate_records():
    items = work_items([
        dict(work_item_id="A", task="t", closed_at=datetime(2026, 9, 30, 23), handling_minutes=5.0),
        dict(work_item_id="B", task="t", closed_at=datetime(2026, 10, 1, 0), handling_minutes=5.0),
        dict(work_item_id="C", task="t", closed_at=datetime(2026, 10, 31, 23), handling_minutes=5.0),
        dict(work_item_id="D", task="t", closed_at=datetime(2026, 11, 1, 0), handling_minutes=5.0),
        # the same item exported twice: the record that closed last counts once
        dict(work_item_id="B", task="t", closed_at=datetime(2026, 10, 2, 0), handling_minutes=9.0,
             x_source_file="newer"),
    ])
    got = evidence_items(items, LINKS_NONE, date(2026, 10, 1), date(2026, 10, 31)).collect()
    assert got.select("work_item_id", "in_period", "minutes").rows() == [
        ("A", False, 5.0), ("B", True, 9.0), ("C", True, 5.0), ("D", False, 5.0)]


def test_weekly_by_hand():
    weekly = evidence_weekly(evidence_items(_items(), LINKS_NONE)).filter(
        (pl.col("task") == "review") & (pl.col("grain") == "task")).collect()
    # review: baseline Oct 5, 6, 7 (week of Oct 5); AI Oct 12-15 (week of Oct 12)
    assert weekly.select("week", "items_ai", "items_baseline", "ai_share", "median_minutes_ai",
                         "median_minutes_baseline").rows() == [
        (date(2026, 10, 5), 0, 3, 0.0, None, 12.0), (date(2026, 10, 12), 4, 0, 1.0, 7.5, None)]


def test_task_roi_says_what_it_rests_on():
    usage = usage_events([
        dict(event_time=datetime(2026, 10, 1, 9), provider="openai", task="review", run_id="r1", cost_usd=0.6,
             outcome="success"),
        dict(event_time=datetime(2026, 10, 1, 10), provider="openai", task="few", run_id="r2", cost_usd=0.3,
             outcome="success"),
    ])
    evidence = task_evidence(evidence_items(_items(), LINKS_NONE), task_daily(usage), CATALOG, min_items=3)
    evidence = evidence.filter(pl.col("grain") == "task")
    roi = task_roi(task_daily(usage), CATALOG, evidence).collect()
    assert roi["task"].is_unique().all()
    got = {r["task"]: r for r in roi.to_dicts()}
    # review has a verdict: measured; few has too few items: the catalog's estimate
    assert (got["review"]["roi_basis"], got["review"]["verdict"]) == ("measured", "saves_time")
    assert got["review"]["measured_minutes_saved"] == 4.5
    # 4 AI-assisted items x 4.5 min / 60 x $60 = $18, less $0.60 of AI cost and 1 run x 1 review minute ($1)
    assert got["review"]["measured_net_savings_usd"] == pytest.approx(16.4)
    assert got["review"]["reported_net_savings_usd"] == pytest.approx(16.4)
    # the row adds up on the same basis: $18 of people's time measured, ROI 16.4 / (0.6 + 1), not the catalog's
    assert got["review"]["reported_human_cost_avoided_usd"] == pytest.approx(18.0)
    assert got["review"]["reported_roi"] == pytest.approx(16.4 / 1.6)
    assert got["review"]["reported_roi"] != pytest.approx(got["review"]["allocated_roi"])
    assert (got["few"]["reported_human_cost_avoided_usd"], got["few"]["reported_roi"]) == pytest.approx(
        (got["few"]["human_cost_avoided_usd"], got["few"]["allocated_roi"]))
    # the estimate stands where nothing is measured: few's catalog net savings (10 min x $60/h - 0.3 - 1)
    assert got["few"]["reported_net_savings_usd"] == pytest.approx(got["few"]["allocated_net_savings_usd"])
    # a period with fewer items (2 AI-assisted): 2 x 4.5 min x $1/min - 0.6 - 1 = $7.40
    period = task_roi(task_daily(usage), CATALOG, evidence, pl.LazyFrame({"task": ["review"], "items_ai": [2]}))
    in_period = period.filter(pl.col("task") == "review").collect()
    assert in_period["measured_net_savings_usd"].item() == pytest.approx(7.4)
    assert (in_period["reported_human_cost_avoided_usd"].item(), in_period["reported_roi"].item()) == pytest.approx(
        (9.0, 7.4 / 1.6))
    assert (got["few"]["roi_basis"], got["few"]["verdict"]) == ("catalog_estimate", "insufficient_evidence")
    # break-even: $0.60 per run / $60 an hour = 0.6 min, plus 1 review minute = 1.6 minutes
    assert got["review"]["break_even_minutes"] == pytest.approx(1.6)
    # a task with no runs has no break-even figure
    assert got["flat"]["break_even_minutes"] is None
    # without evidence every task is an estimate, and the figures it had are unchanged
    plain = {r["task"]: r for r in task_roi(task_daily(usage), CATALOG).collect().to_dicts()}
    assert {r["roi_basis"] for r in plain.values()} == {"catalog_estimate"}
    assert plain["review"]["net_savings_usd"] == got["review"]["net_savings_usd"]


def test_elapsed_minutes_give_a_verdict_but_no_money():
    """Turnaround is not people's time: a task measured on elapsed minutes gets no measured money, and its ROI
    stays on the catalog's estimate."""
    rows = [dict(work_item_id=f"{side}{i}", task="review", opened_at=datetime(2026, 10, 1 + i, 9),
                 closed_at=datetime(2026, 10, 1 + i, 9) + timedelta(minutes=base + i % 3), ai_assisted=side == "a")
            for side, base in (("a", 60), ("b", 120)) for i in range(10)]
    evidence = task_evidence(evidence_items(work_items(rows), LINKS_NONE), pl.LazyFrame(schema={
        "day": pl.Date, "task": pl.String, "team": pl.String, "runs": pl.Int64, "ai_cost_usd": pl.Float64}),
        CATALOG)
    row = evidence.collect().row(0, named=True)
    assert (row["minutes_basis"], row["verdict"]) == ("elapsed", "saves_time")
    assert row["minutes_saved"] == pytest.approx(60.0)
    assert row["measured_net_savings_usd"] is None and row["measured_net_savings_low_usd"] is None
    usage = usage_events([dict(event_time=datetime(2026, 10, 1, 9), provider="openai", task="review", run_id="r",
                               cost_usd=0.1)])
    roi = task_roi(task_daily(usage), CATALOG, evidence.filter(pl.col("grain") == "task")).filter(
        pl.col("task") == "review").collect()
    assert roi.select("roi_basis", "verdict").row(0) == ("catalog_estimate", "saves_time")
