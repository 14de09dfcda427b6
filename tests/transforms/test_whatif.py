"""model_whatif on tiny hand-made frames; every expected figure is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.schemas import PRICES as PRICES_SCHEMA
from pipelines.schemas import TASKS, USAGE_EVENTS, conform
from pipelines.transforms.whatif import COLUMNS, model_whatif
from tests.support.builders import tasks, usage_events

# USD per million tokens. "small" changes price on Oct 2, so the repricing must use each day's rate.
PRICE_ROWS = [
    # provider, model, valid_from, valid_to, input, output, cache_read, cache_write
    ("openai", "big", date(2026, 1, 1), None, 10.0, 30.0, 5.0, 10.0),
    ("azure", "big", date(2026, 1, 1), None, 10.0, 30.0, 5.0, 10.0),
    ("openai", "small", date(2026, 1, 1), date(2026, 10, 2), 1.0, 2.0, 0.5, 1.0),
    ("openai", "small", date(2026, 10, 2), None, 2.0, 4.0, 1.0, 2.0),
    # no cache discount: the table stores the input rate as the cache-read rate
    ("anthropic", "haiku", date(2026, 1, 1), None, 0.8, 4.0, 0.8, 1.0),
    # only priced from Oct 2
    ("openai", "late", date(2026, 10, 2), None, 1.0, 1.0, 1.0, 1.0),
]
PRICES = pl.LazyFrame(
    PRICE_ROWS,
    schema={
        "provider": pl.String, "model": pl.String, "valid_from": pl.Date, "valid_to": pl.Date,
        "input_usd_per_mtok": pl.Float64, "output_usd_per_mtok": pl.Float64,
        "cache_read_usd_per_mtok": pl.Float64, "cache_write_usd_per_mtok": pl.Float64,
    },
    orient="row",
).with_columns(pl.lit("test").alias("price_source"))


def _usage(rows: list[dict]) -> pl.LazyFrame:
    return usage_events(rows, provider="openai", team="core", x_source="s")


def _tasks(rows: list[dict]) -> pl.LazyFrame:
    return tasks(rows)


def _t(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 10, day, hour)


def _expected(rows: list[tuple]) -> pl.DataFrame:
    schema = {
        "task": pl.String, "provider": pl.String, "model": pl.String, "alt_provider": pl.String,
        "alt_model": pl.String, "is_eligible_listed": pl.Boolean, "requests": pl.Int64,
        "unpriced_requests": pl.Int64, "input_tokens": pl.Int64, "cache_read_tokens": pl.Int64,
        "cache_write_tokens": pl.Int64, "output_tokens": pl.Int64, "current_cost_usd": pl.Float64,
        "alt_cost_usd": pl.Float64, "alt_unpriced_requests": pl.Int64, "savings_usd": pl.Float64,
        "savings_pct": pl.Float64, "alt_cache_read_as_input": pl.Boolean, "current_runs": pl.Int64,
        "current_success_rate": pl.Float64, "current_cost_per_success_usd": pl.Float64, "alt_runs": pl.Int64,
        "alt_success_rate": pl.Float64, "alt_cost_per_success_usd": pl.Float64,
    }
    assert list(schema) == COLUMNS
    return pl.DataFrame(rows, schema=schema, orient="row")


USAGE = _usage([
    # summarize on big, run s1 (success): 1000*10 + 2000*5 + 500*30 = 35000 -> $0.035
    dict(event_time=_t(1), task="summarize", model="big", run_id="s1", input_tokens=1000, cache_read_tokens=2000,
         output_tokens=500, cost_usd=0.035, outcome="success"),
    # summarize on big, run s2 (failure): 2000*10 + 1000*30 = 50000 -> $0.05
    dict(event_time=_t(2), task="summarize", model="big", run_id="s2", input_tokens=2000, output_tokens=1000,
         cost_usd=0.05, outcome="failure"),
    # summarize on small, run s3 (success), Oct 2 rates: 100*2 + 100*4 = 600 -> $0.0006
    dict(event_time=_t(2, 11), task="summarize", model="small", run_id="s3", input_tokens=100, output_tokens=100,
         cost_usd=0.0006, outcome="success"),
    # chat (not in the catalog) on haiku, no outcome: 1000*0.8 + 100*4 = 1200 -> $0.0012
    dict(event_time=_t(1, 12), task="chat", provider="anthropic", model="haiku", run_id="c1", input_tokens=1000,
         output_tokens=100, cost_usd=0.0012),
])


def test_default_candidates_are_the_models_used_repriced_per_day_with_observed_runs():
    tasks = _tasks([dict(task="summarize")])  # no eligible_models: compared with big, small, haiku (all used)
    out = model_whatif(USAGE, tasks, PRICES).collect()
    F = False
    expected = _expected([
        # chat on haiku (1000 in, 100 out on Oct 1; current $0.0012; 1 run, no outcome -> rate 0, no success)
        #   small at Oct 1 rates: 1000*1 + 100*2 = 1200 -> $0.0012, saving 0
        ("chat", "anthropic", "haiku", "openai", "small", F, 1, 0, 1000, 0, 0, 100, 0.0012, 0.0012, 0, 0.0, 0.0,
         F, 1, 0.0, None, 0, None, None),
        #   big: 1000*10 + 100*30 = 13000 -> $0.013, saving 0.0012 - 0.013 = -0.0118
        ("chat", "anthropic", "haiku", "openai", "big", F, 1, 0, 1000, 0, 0, 100, 0.0012, 0.013, 0, -0.0118,
         -0.0118 / 0.0012, F, 1, 0.0, None, 0, None, None),
        # summarize on big: current $0.085 over runs s1 (success) and s2 (failure) -> rate 0.5, $0.085/success
        #   haiku: Oct 1 1000*0.8 + 2000*0.8 (cache read at input rate) + 500*4 = 4400; Oct 2 2000*0.8 + 1000*4
        #   = 5600 -> $0.01, saving 0.075; it never ran summarize -> observed null
        ("summarize", "openai", "big", "anthropic", "haiku", F, 2, 0, 3000, 2000, 0, 1500, 0.085, 0.01, 0, 0.075,
         0.075 / 0.085, True, 2, 0.5, 0.085, 0, None, None),
        #   small: Oct 1 1000*1 + 2000*0.5 + 500*2 = 3000; Oct 2 (new rates) 2000*2 + 1000*4 = 8000 -> $0.011;
        #   saving 0.074; observed: run s3 on small succeeded at $0.0006
        ("summarize", "openai", "big", "openai", "small", F, 2, 0, 3000, 2000, 0, 1500, 0.085, 0.011, 0, 0.074,
         0.074 / 0.085, F, 2, 0.5, 0.085, 1, 1.0, 0.0006),
        # summarize on small (Oct 2: 100 in, 100 out, $0.0006)
        #   haiku: 100*0.8 + 100*4 = 480 -> $0.00048, saving 0.00012 = 20%
        ("summarize", "openai", "small", "anthropic", "haiku", F, 1, 0, 100, 0, 0, 100, 0.0006, 0.00048, 0,
         0.00012, 0.2, F, 1, 1.0, 0.0006, 0, None, None),
        #   big: 100*10 + 100*30 = 4000 -> $0.004, saving -0.0034
        ("summarize", "openai", "small", "openai", "big", F, 1, 0, 100, 0, 0, 100, 0.0006, 0.004, 0, -0.0034,
         -0.0034 / 0.0006, F, 1, 1.0, 0.0006, 2, 0.5, 0.085),
    ])
    assert_frame_equal(out, expected)


def test_max_candidates_keeps_the_most_used_models():
    # big has 2 requests, small and haiku 1 each: only big is a candidate, and never for itself
    out = model_whatif(USAGE, _tasks([dict(task="summarize")]), PRICES, max_candidates=1).collect()
    assert out.select("task", "model", "alt_model").rows() == [("chat", "haiku", "big"), ("summarize", "small", "big")]


def test_eligible_models_resolve_provider_from_prices_or_context():
    usage = _usage([
        # classify on openai small, Oct 1: 1000*1 + 1000*2 = 3000 -> $0.003
        dict(event_time=_t(1), task="classify", model="small", input_tokens=1000, output_tokens=1000, cost_usd=0.003),
        # draft on anthropic haiku: 1000*0.8 + 1000*4 = 4800 -> $0.0048
        dict(event_time=_t(1), task="draft", provider="anthropic", model="haiku", input_tokens=1000,
             output_tokens=1000, cost_usd=0.0048),
        # extract on anthropic haiku: 2000*0.8 = 1600 -> $0.0016
        dict(event_time=_t(1), task="extract", provider="anthropic", model="haiku", input_tokens=2000,
             cost_usd=0.0016),
    ])
    tasks = _tasks([
        # "big" is priced by openai and azure: the task's own provider (openai) decides; haiku is anthropic's
        # only; nothing-such is priced nowhere and is left out
        dict(task="classify", eligible_models=["Haiku", "big", "nothing-such"]),
        # "big" again, but anthropic does not price it: of openai and azure only openai is in the logs
        dict(task="draft", eligible_models=["big"]),
        # explicit providers; anthropic/haiku is the current model and is not compared with itself
        dict(task="extract", eligible_models=["azure/big", "openai/small", "anthropic/haiku"]),
    ])
    out = model_whatif(usage, tasks, PRICES).collect()
    got = out.select("task", "alt_provider", "alt_model", "is_eligible_listed", "alt_cost_usd", "savings_usd")
    expected = pl.DataFrame(
        [
            # classify: haiku 1000*0.8 + 1000*4 = $0.0048 (saving -0.0018); big 1000*10 + 1000*30 = $0.04
            ("classify", "anthropic", "haiku", True, 0.0048, -0.0018),
            ("classify", "openai", "big", True, 0.04, -0.037),
            ("draft", "openai", "big", True, 0.04, -0.0352),
            # extract: small 2000*1 = $0.002 (saving -0.0004); azure big 2000*10 = $0.02
            ("extract", "openai", "small", True, 0.002, -0.0004),
            ("extract", "azure", "big", True, 0.02, -0.0184),
        ],
        schema=["task", "alt_provider", "alt_model", "is_eligible_listed", "alt_cost_usd", "savings_usd"],
        orient="row",
    )
    assert_frame_equal(got, expected)


def test_unpriced_current_or_alternative_gives_no_saving():
    usage = _usage([
        # "mystery" has no price: cost_usd null
        dict(event_time=_t(1), task="t", model="mystery", input_tokens=1000, cost_usd=None),
        # a priced request of the same task on small, Oct 1: 1000*1 = $0.001
        dict(event_time=_t(1), task="t", model="small", input_tokens=1000, cost_usd=0.001),
    ])
    tasks = _tasks([dict(task="t", eligible_models=["small", "late", "mystery"])])
    out = model_whatif(usage, tasks, PRICES).collect()
    got = out.select("model", "alt_model", "unpriced_requests", "current_cost_usd", "alt_cost_usd",
                     "alt_unpriced_requests", "savings_usd", "savings_pct")
    expected = pl.DataFrame(
        [
            # ("mystery" is listed but unpriced, so it is no alternative; rows without a saving sort by alt.)
            # mystery -> late: late has no price on Oct 1 either
            ("mystery", "late", 1, None, None, 1, None, None),
            # mystery -> small: alt 1000*1 = $0.001 but the current cost is unknown: no saving, never vs $0.
            ("mystery", "small", 1, None, 0.001, 0, None, None),
            ("small", "late", 0, 0.001, None, 1, None, None),
        ],
        schema={"model": pl.String, "alt_model": pl.String, "unpriced_requests": pl.Int64,
                "current_cost_usd": pl.Float64, "alt_cost_usd": pl.Float64, "alt_unpriced_requests": pl.Int64,
                "savings_usd": pl.Float64, "savings_pct": pl.Float64},
        orient="row",
    )
    assert_frame_equal(got, expected)


def test_each_request_keeps_its_own_tier_and_batch_price():
    prices = pl.LazyFrame(
        [
            ("openai", "cur", date(2026, 1, 1), 10.0, 10.0, None, None, None),
            # cliff tier: a request whose prompt is over 1000 tokens pays 4 / 8 for all its tokens
            ("openai", "tiered", date(2026, 1, 1), 1.0, 2.0, 1000, 4.0, 8.0),
        ],
        schema={"provider": pl.String, "model": pl.String, "valid_from": pl.Date, "input_usd_per_mtok": pl.Float64,
                "output_usd_per_mtok": pl.Float64, "tier1_threshold_tokens": pl.Int64,
                "tier1_input_usd_per_mtok": pl.Float64, "tier1_output_usd_per_mtok": pl.Float64},
        orient="row",
    ).with_columns(pl.lit("test").alias("price_source"))
    prices = conform(prices, PRICES_SCHEMA)  # every other column null: no cache rates, open windows
    usage = _usage([
        dict(event_time=_t(1, 9), task="t", model="cur", input_tokens=500, output_tokens=100, cost_usd=0.006),
        dict(event_time=_t(1, 10), task="t", model="cur", input_tokens=2000, output_tokens=100, cost_usd=0.021),
        dict(event_time=_t(1, 11), task="t", model="cur", input_tokens=500, is_batch=True, cost_usd=0.0025),
    ])
    out = model_whatif(usage, _tasks([dict(task="t", eligible_models=["tiered"])]), prices).collect()
    # 500 in + 100 out under the threshold: 500*1 + 100*2 = 700; 2000 in over it: 2000*4 + 100*8 = 8800;
    # the batch request at openai's documented 50% batch discount: 500*1*0.5 = 250. Total 9750 -> $0.00975.
    # (Averaged together the first two would both be over the threshold: 2500*4 + 200*8 = 11600.)
    assert out["alt_cost_usd"].to_list() == [pytest_approx(0.00975)]
    assert out["savings_usd"].to_list() == [pytest_approx(0.0295 - 0.00975)]


def pytest_approx(value: float):
    import pytest

    return pytest.approx(value, rel=1e-9)


def test_a_run_counts_for_the_model_that_served_most_of_its_requests_ties_to_the_first_used():
    """observed_runs credits each run to one model: most requests (request_count, not rows), then the one used
    first, then provider and model in order; the run's day is its first request's, its cost the whole run's."""
    from pipelines.transforms.whatif import observed_runs

    usage = _usage([
        # r1: small serves 2 requests, big 1 (used first) -> small; starts Oct 1 09:00; $0.1 + 0.2 + 0.3
        dict(event_time=_t(1, 9), task="t", model="big", run_id="r1", cost_usd=0.1),
        dict(event_time=_t(1, 10), task="t", model="small", run_id="r1", cost_usd=0.2),
        dict(event_time=_t(1, 11), task="t", model="small", run_id="r1", cost_usd=0.3, outcome="success"),
        # r2: one request each -> the one used first, small (10:01); $0.4 + 0.5
        dict(event_time=datetime(2026, 10, 1, 10, 5), task="t", model="big", run_id="r2", cost_usd=0.4),
        dict(event_time=datetime(2026, 10, 1, 10, 1), task="t", model="small", run_id="r2", cost_usd=0.5),
        # r3: one each at the same time -> provider order: anthropic before openai; haiku unpriced
        dict(event_time=_t(1, 12), task="t", model="big", run_id="r3", cost_usd=0.6, outcome="failure"),
        dict(event_time=_t(1, 12), task="t", provider="anthropic", model="haiku", run_id="r3", cost_usd=None),
        # r4: one row of 3 requests on big (Oct 1 23:50) beats 2 rows on small after midnight -> big, day Oct 1
        dict(event_time=datetime(2026, 10, 1, 23, 50), task="t", model="big", run_id="r4", request_count=3,
             cost_usd=0.7),
        dict(event_time=datetime(2026, 10, 2, 0, 10), task="t", model="small", run_id="r4", cost_usd=0.8),
        dict(event_time=datetime(2026, 10, 2, 0, 20), task="t", model="small", run_id="r4", cost_usd=0.9,
             outcome="success"),
        # r5: on Oct 2, 2 rows on big against one row of 5 requests on small -> small
        dict(event_time=_t(2, 9), task="t", model="big", run_id="r5", cost_usd=1.0),
        dict(event_time=_t(2, 10), task="t", model="big", run_id="r5", cost_usd=1.1),
        dict(event_time=_t(2, 11), task="t", model="small", run_id="r5", request_count=5, cost_usd=1.2),
    ])
    out = observed_runs(usage).sort("provider", "model", "day").collect()
    expected = pl.DataFrame(
        [
            # r3: 1 unpriced request (haiku), cost 0.6, outcome failure
            ("t", "anthropic", "haiku", date(2026, 10, 1), 1, 0, 1, 0.6),
            # r4
            ("t", "openai", "big", date(2026, 10, 1), 1, 1, 0, 0.7 + 0.8 + 0.9),
            # r1 (success) and r2
            ("t", "openai", "small", date(2026, 10, 1), 2, 1, 0, 0.1 + 0.2 + 0.3 + 0.4 + 0.5),
            # r5
            ("t", "openai", "small", date(2026, 10, 2), 1, 0, 0, 1.0 + 1.1 + 1.2),
        ],
        schema={"task": pl.String, "provider": pl.String, "model": pl.String, "day": pl.Date, "runs": pl.Int64,
                "successes": pl.Int64, "unpriced_requests": pl.Int64, "cost_usd": pl.Float64},
        orient="row",
    )
    assert_frame_equal(out, expected, check_exact=False, check_dtypes=False)
