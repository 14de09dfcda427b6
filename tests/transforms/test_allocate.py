"""allocated_cost: a hand-worked case for every basis, and a property test that allocation loses no cent."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.transforms.allocate import allocated_cost
from pipelines.schemas import COST_LINES, USAGE_EVENTS, conform
from tests.support.builders import cost_lines, usage_events

OCT1, NOV1 = datetime(2026, 10, 1), datetime(2026, 11, 1)


def lines(rows: list[dict]) -> pl.LazyFrame:
    return cost_lines(rows)


def usage(rows: list[dict]) -> pl.LazyFrame:
    return usage_events(rows, provider="aws")


def _t(day: int) -> datetime:
    return datetime(2026, 10, day, 12)


COST = lines([
    # aws m1 on Oct 1: two lines, billed 10 + 2 = 12, effective 8 + 2 = 10
    dict(ChargePeriodStart=OCT1, x_model="m1", BilledCost=10.0, EffectiveCost=8.0),
    dict(ChargePeriodStart=OCT1, x_model="m1", BilledCost=2.0),
    # aws m2 on Oct 1: $3; its requests were all unpriced, so tokens decide
    dict(ChargePeriodStart=OCT1, x_model="m2", BilledCost=3.0),
    # aws m3 on Oct 2: $4, nobody logged m3 that day
    dict(ChargePeriodStart=OCT1 + timedelta(days=1), x_model="m3", BilledCost=4.0),
    # a GPU instance, a monthly credit, a model-usage line naming no model
    dict(ChargePeriodStart=OCT1, ServiceName="Amazon EC2", x_ai_category="ai_compute", BilledCost=50.0),
    dict(ChargePeriodStart=OCT1, ChargePeriodEnd=NOV1, ChargeCategory="Credit", x_ai_category="ai_service",
         BilledCost=-6.0),
    dict(ChargePeriodStart=OCT1 + timedelta(days=1), BilledCost=1.0),
    # never allocated: a EUR line and a non-AI line
    dict(ChargePeriodStart=OCT1, x_model="m1", BilledCost=100.0, BillingCurrency="EUR"),
    dict(ChargePeriodStart=OCT1, ServiceName="Amazon S3", x_is_ai=False, x_ai_category=None, BilledCost=70.0),
    # OpenAI billed $9 for the month, shared over the days its model was used
    dict(ChargePeriodStart=OCT1, ChargePeriodEnd=NOV1, ProviderName="OpenAI", ServiceName="OpenAI API",
         x_model="gpt-x", BilledCost=9.0),
])

USAGE = usage([
    # m1 Oct 1: A/x priced $1 (plus an unpriced request), B/y $3 -> shares 1/4 and 3/4 of 12 and of 10
    dict(event_time=_t(1), model="m1", task="A", team="x", cost_usd=1.0, input_tokens=10),
    dict(event_time=_t(1), model="m1", task="A", team="x", cost_usd=None, input_tokens=10),
    dict(event_time=_t(1), model="m1", task="B", team="y", cost_usd=3.0, input_tokens=10),
    # m2 Oct 1: unpriced, 100 and 300 tokens -> 1/4 and 3/4 of $3
    dict(event_time=_t(1), model="m2", task="C", team="z", cost_usd=None, input_tokens=60, output_tokens=40),
    dict(event_time=_t(1), model="m2", task="D", team="z", cost_usd=None, cache_read_tokens=300),
    # Anthropic has no invoice at all: the logs stand in, unpriced stays NULL
    dict(event_time=_t(1), provider="anthropic", model="claude", task="E", team="w", cost_usd=0.5),
    dict(event_time=_t(1), provider="anthropic", model="claude", task="F", team="w", cost_usd=None),
    # aws on Oct 5: no line covers it (the monthly credit does not count as a bill for the day)
    dict(event_time=_t(5), model="m1", task="A", team="x", cost_usd=2.0),
    # gpt-x: $1 on Oct 3 and $2 on Oct 20 -> $3 and $6 of the month's $9
    dict(event_time=_t(3), provider="openai", model="gpt-x", task="A", team="x", cost_usd=1.0),
    dict(event_time=_t(20), provider="openai", model="gpt-x", task="B", team="y", cost_usd=2.0),
])


def test_allocated_cost_by_hand():
    got = allocated_cost(COST, USAGE).collect()
    d = lambda n: date(2026, 10, n)  # noqa: E731
    U = "unattributed"
    rows = [
        (d(1), "anthropic", "claude", "E", "w", "logs_only", 0.5, 0.5),
        (d(1), "anthropic", "claude", "F", "w", "logs_only", None, None),
        (d(1), "aws", "m1", "A", "x", "usage_share", 3.0, 2.5),
        (d(1), "aws", "m1", "B", "y", "usage_share", 9.0, 7.5),
        (d(1), "aws", "m2", "C", "z", "token_share", 0.75, 0.75),
        (d(1), "aws", "m2", "D", "z", "token_share", 2.25, 2.25),
        (d(1), "aws", None, U, None, "credit", -6.0, -6.0),
        (d(1), "aws", None, U, None, "not_model_usage", 50.0, 50.0),
        (d(2), "aws", "m3", U, None, "no_usage", 4.0, 4.0),
        (d(2), "aws", None, U, None, "unknown_model", 1.0, 1.0),
        (d(3), "openai", "gpt-x", "A", "x", "usage_share", 3.0, 3.0),
        (d(5), "aws", "m1", "A", "x", "logs_only", 2.0, 2.0),
        (d(20), "openai", "gpt-x", "B", "y", "usage_share", 6.0, 6.0),
    ]
    expected = pl.DataFrame(
        rows, orient="row",
        schema={"day": pl.Date, "provider": pl.String, "model": pl.String, "task": pl.String, "team": pl.String,
                "basis": pl.String, "billed_cost_usd": pl.Float64, "effective_cost_usd": pl.Float64},
    )
    assert_frame_equal(got, expected, abs_tol=1e-12)


def _random_case(seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    days = [OCT1 + timedelta(days=i) for i in range(6)]
    line_rows = []
    for _ in range(rng.randint(0, 25)):
        kind = rng.choice(["usage", "usage", "usage", "compute", "credit", "nomodel"])
        line_rows.append(dict(
            ChargePeriodStart=rng.choice(days),
            ProviderName=rng.choice(["AWS", "OpenAI"]),
            x_model=rng.choice(["m1", "m2", "m3"]) if kind == "usage" else None,
            x_ai_category={"compute": "ai_compute", "credit": "ai_service"}.get(kind, "model_usage"),
            ChargeCategory="Credit" if kind == "credit" else "Usage",
            BilledCost=round(rng.uniform(-2, 100) if kind != "credit" else -rng.uniform(0, 10), 6),
            EffectiveCost=round(rng.uniform(0, 100), 6),
            BillingCurrency=rng.choice(["USD"] * 5 + ["EUR"]),
        ))
    usage_rows = []
    for _ in range(rng.randint(0, 60)):
        usage_rows.append(dict(
            event_time=rng.choice(days) + timedelta(hours=rng.randint(0, 23)),
            provider=rng.choice(["aws", "openai", "anthropic"]),
            model=rng.choice(["m1", "m2", "m3"]),
            task=rng.choice(["a", "b", "c"]),
            team=rng.choice(["x", "y", None]),
            cost_usd=None if rng.random() < 0.3 else rng.uniform(0, 5),
            input_tokens=rng.randint(0, 1000),
        ))
    return line_rows, usage_rows


def test_allocation_equals_the_bill_per_provider_and_day_over_random_frames():
    names = {"AWS": "aws", "OpenAI": "openai"}
    for seed in range(30):
        line_rows, usage_rows = _random_case(seed)
        billed, effective, covered = defaultdict(float), defaultdict(float), set()
        for r in line_rows:
            if r["BillingCurrency"] == "USD":
                key = (names[r["ProviderName"]], r["ChargePeriodStart"].date())
                billed[key] += r["BilledCost"]
                effective[key] += r["EffectiveCost"]
                if r["ChargeCategory"] != "Credit":
                    covered.add(key)
        logged = defaultdict(float)
        for r in usage_rows:
            key = (r["provider"], r["event_time"].date())
            if key not in covered and r["cost_usd"] is not None:
                logged[key] += r["cost_usd"]

        cost = lines(line_rows) if line_rows else conform(pl.LazyFrame(schema=COST_LINES), COST_LINES)
        events = usage(usage_rows) if usage_rows else conform(pl.LazyFrame(schema=USAGE_EVENTS), USAGE_EVENTS)
        got = allocated_cost(cost, events).collect()
        sums = {
            (r["provider"], r["day"], r["logs_only"]): (r["b"], r["e"])
            for r in got.group_by("provider", "day", (pl.col("basis") == "logs_only").alias("logs_only"))
            .agg(pl.col("billed_cost_usd").sum().alias("b"), pl.col("effective_cost_usd").sum().alias("e"))
            .to_dicts()
        }
        for key, amount in billed.items():
            b, e = sums.pop((*key, False))
            assert abs(b - amount) < 1e-9, (seed, key, b, amount)
            assert abs(e - effective[key]) < 1e-9, (seed, key, e, effective[key])
        for key, amount in logged.items():
            b, _ = sums.pop((*key, True))
            assert abs(b - amount) < 1e-9, (seed, key)
        # nothing else: no allocation without a bill, no logs_only row where a bill exists (unpriced ones are 0)
        assert all(abs(b) < 1e-12 for b, _ in sums.values()), (seed, sums)
        # every task row that shared a bill used that provider on that day
        shared = got.filter(pl.col("basis").is_in(["usage_share", "token_share"]))
        used = {(r["provider"], r["model"], r["event_time"].date(), r["task"]) for r in usage_rows}
        assert all((r["provider"], r["model"], r["day"], r["task"]) in used for r in shared.to_dicts()), seed
