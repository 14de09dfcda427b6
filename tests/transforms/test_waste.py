"""waste on tiny hand-made frames; every expected figure is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.schemas import COST_LINES, PRICES, TASKS, USAGE_EVENTS, conform
from tests.support.builders import usage_events
from pipelines.transforms.waste import (
    BATCH_ELIGIBLE,
    CACHING,
    COLUMNS,
    EXPLANATIONS,
    FAILED,
    IDLE_COMPUTE,
    IDLE_PROVISIONED,
    RETRIES,
    waste,
)

# USD per million tokens. openai and anthropic have a documented 50% batch discount; acme has none.
# anthropic "h" has no cache discount (the table stores the input rate as its cache-read rate).
PRICE_TABLE = conform(
    pl.LazyFrame(
        [
            ("openai", "m", date(2026, 1, 1), 2.0, 8.0, 0.5, 2.0),
            ("anthropic", "h", date(2026, 1, 1), 1.0, 5.0, 1.0, 1.0),
            ("acme", "x", date(2026, 1, 1), 1.0, 1.0, 1.0, 1.0),
        ],
        schema=["provider", "model", "valid_from", "input_usd_per_mtok", "output_usd_per_mtok",
                "cache_read_usd_per_mtok", "cache_write_usd_per_mtok"],
        orient="row",
    ).with_columns(pl.lit("test").alias("price_source")),
    PRICES,
)

TASK_CATALOG = conform(
    pl.LazyFrame([
        dict(task="report", human_minutes=10.0, hourly_rate_usd=60.0, latency_sensitive=False),
        dict(task="chat", human_minutes=1.0, hourly_rate_usd=60.0, latency_sensitive=True),
    ]),
    TASKS,
)


def _t(day: int, hour: int) -> datetime:
    return datetime(2026, 10, day, hour)


def _usage(rows: list[dict]) -> pl.LazyFrame:
    return usage_events(rows, provider="openai", model="m", task="report", team="core", x_source="s")


USAGE = _usage([
    # run r1 of report (openai m, Oct 1): a failure, then two successful requests after it
    # R3 100*2 + 100*8 = 1000 -> $0.001 (the run's next step after the retry: not a retry)
    dict(event_time=_t(1, 11), run_id="r1", request_id="c", input_tokens=100, output_tokens=100, cost_usd=0.001),
    # R2 1000*2 + 100*8 = 2800 -> $0.0028 (retry: directly after R1 failed; prompt 1000 < 1024: not cacheable)
    dict(event_time=_t(1, 10), run_id="r1", request_id="b", input_tokens=1000, output_tokens=100, cost_usd=0.0028),
    # (listed out of time order on purpose) R1 1000*2 = 2000 -> $0.002 (failed)
    dict(event_time=_t(1, 9), run_id="r1", request_id="a", status="error", input_tokens=1000, cost_usd=0.002),
    # run r2: R5 already batch (1000*2*0.5 -> $0.001) comes first; R4 follows, no failure in this run
    dict(event_time=_t(1, 8), run_id="r2", request_id="e", is_batch=True, input_tokens=1000, cost_usd=0.001),
    # R4 4000*2 + 100*8 = 8800 -> $0.0088; input-heavy (4000 >= 10*100), no cache reads
    dict(event_time=_t(1, 9), run_id="r2", request_id="d", input_tokens=4000, output_tokens=100, cost_usd=0.0088),
    # acme has no batch discount and no cache discount: nothing to estimate
    dict(event_time=_t(1, 12), provider="acme", model="x", run_id="r3", input_tokens=100, output_tokens=100,
         cost_usd=0.0002),
    # chat (latency sensitive, anthropic h, Oct 2): an unpriced error and then a success, both without run id
    dict(event_time=_t(2, 8), task="chat", team="sales", provider="anthropic", model="h", status="error",
         input_tokens=10, cost_usd=None),
    # 5000*1 + 10*5 -> $0.00505; input-heavy, but h reads the cache at the input rate: no saving
    dict(event_time=_t(2, 9), task="chat", team="sales", provider="anthropic", model="h", input_tokens=5000,
         output_tokens=10, cost_usd=0.00505),
    # Bedrock traffic on Oct 2 only (unpriced: it still counts as traffic)
    dict(event_time=_t(2, 10), task="chat", team="sales", provider="aws", model="nova", input_tokens=10,
         cost_usd=None),
])


def _line(day: int, hour: int, category: str | None, cost: float, provider="AWS", service="Amazon Bedrock",
          currency="USD", charge="Usage") -> dict:
    return dict(x_line_id=f"{day}-{hour}-{category}-{cost}", ProviderName=provider, ServiceName=service,
                ChargePeriodStart=_t(day, hour), ChargeCategory=charge, BilledCost=cost, EffectiveCost=cost,
                BillingCurrency=currency, x_ai_category=category, x_source="b", x_source_file="f")


COST = conform(pl.LazyFrame([
    _line(1, 0, "provisioned_throughput", 20.0),  # no aws request on Oct 1: idle
    _line(1, 0, "ai_compute", 5.0, service="Amazon Elastic Compute Cloud"),  # two GPU hours, idle: 8.0
    _line(1, 1, "ai_compute", 3.0, service="Amazon Elastic Compute Cloud"),
    _line(2, 0, "provisioned_throughput", 20.0),  # Oct 2 has Bedrock traffic: not idle
    _line(1, 0, "model_usage", 7.0),  # token lines are not capacity
    _line(1, 0, "provisioned_throughput", 9.0, currency="EUR"),  # not USD: left out
    _line(1, 0, "provisioned_throughput", -20.0, charge="Credit"),  # credits are not capacity use
]), COST_LINES)


def test_every_category_on_hand_computed_frames():
    out = waste(USAGE, COST, TASK_CATALOG, PRICE_TABLE).collect()
    oct1, oct2 = date(2026, 10, 1), date(2026, 10, 2)
    rows = [
        # batch: R2, R3, R4 are interactive work of a task that can wait; 50% of 0.0028 + 0.001 + 0.0088 = 0.0126
        (oct1, BATCH_ELIGIBLE, "openai", "m", "report", "core", 3, 0.0126, 0.0063, True),
        # caching: R4 only; half its 4000-token prompt read at 0.5 instead of 2: 2000 * 1.5 = 3000 -> $0.003
        (oct1, CACHING, "openai", "m", "report", "core", 1, 0.0088, 0.003, True),
        (oct1, FAILED, "openai", "m", "report", "core", 1, 0.002, 0.002, False),
        (oct1, IDLE_COMPUTE, "aws", None, None, None, None, 8.0, 8.0, False),
        (oct1, IDLE_PROVISIONED, "aws", None, None, None, None, 20.0, 20.0, False),
        # retries: R2 directly follows R1's failure in run r1 (R3 is the run carrying on): 0.0028
        (oct1, RETRIES, "openai", "m", "report", "core", 1, 0.0028, 0.0028, False),
        # the unpriced failure is counted, its cost stays unknown (null), never $0
        (oct2, FAILED, "anthropic", "h", "chat", "sales", 1, None, None, False),
    ]
    expected = pl.DataFrame(
        [(*r, EXPLANATIONS[r[1]]) for r in rows],
        schema={"day": pl.Date, "category": pl.String, "provider": pl.String, "model": pl.String,
                "task": pl.String, "team": pl.String, "requests": pl.Int64, "affected_cost_usd": pl.Float64,
                "cost_usd": pl.Float64, "is_estimate": pl.Boolean, "explanation": pl.String},
        orient="row",
    )
    assert list(expected.columns) == COLUMNS
    assert_frame_equal(out, expected)


def test_caching_estimate_lifts_the_cached_share_to_the_assumption():
    usage = _usage([
        # no cache reads: 3200 of 4000 moved at 2 -> 0.5 saves 3200 * 1.5 = 4800 -> $0.0048
        dict(event_time=_t(1, 9), input_tokens=4000, output_tokens=100, cost_usd=0.0088),
        # 3000 of 4000 already cached (75% < 80%): 200 more moved saves 200 * 1.5 = 300 -> $0.0003
        # its cost: 1000*2 + 3000*0.5 + 10*8 = 3580 -> $0.00358
        dict(event_time=_t(1, 10), input_tokens=1000, cache_read_tokens=3000, output_tokens=10, cost_usd=0.00358),
        # 85% cached already: above the assumption, no estimate
        dict(event_time=_t(1, 11), input_tokens=600, cache_read_tokens=3400, output_tokens=10, cost_usd=0.003),
        # not input-heavy: 2000 prompt < 10 * 300 output
        dict(event_time=_t(1, 12), input_tokens=2000, output_tokens=300, cost_usd=0.0064),
    ])
    tasks = TASK_CATALOG.with_columns(pl.lit(True).alias("latency_sensitive"))  # no batch estimate here
    out = waste(usage, COST.filter(False), tasks, PRICE_TABLE, cache_share=0.8).collect()
    assert out.select("category", "requests", "affected_cost_usd").rows() == [(CACHING, 2, 0.0088 + 0.00358)]
    assert abs(out["cost_usd"].item() - 0.0051) < 1e-12
