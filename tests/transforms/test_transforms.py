"""Transforms on tiny hand-made frames; every expected value below is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.schemas import TASKS, USAGE_EVENTS, COST_LINES, conform
from pipelines.transforms.roi import task_daily, task_roi
from pipelines.transforms.spend import spend_daily
from pipelines.transforms.usage import usage_daily


def _usage(rows: list[dict]) -> pl.LazyFrame:
    base = dict(provider="openai", model="gpt-4o", raw_model="gpt-4o", team="core", request_count=1,
                input_tokens=0, cache_read_tokens=0, cache_write_tokens=0, output_tokens=0,
                reasoning_tokens=0, is_batch=False, status="ok", outcome=None, x_source="s", x_source_file="f")
    return conform(pl.LazyFrame([{**base, **r} for r in rows]), USAGE_EVENTS)


def _t(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 10, day, hour)


USAGE = _usage([
    # run r1 (summarize, Oct 1): a failed request, a retry, and the final success. Cost 0.10 + 0.20 + 0.30.
    dict(event_time=_t(1, 9), task="summarize", run_id="r1", status="error", cost_usd=0.10, input_tokens=100),
    dict(event_time=_t(1, 10), task="summarize", run_id="r1", cost_usd=0.20, input_tokens=100, output_tokens=10),
    dict(event_time=_t(1, 11), task="summarize", run_id="r1", cost_usd=0.30, outcome="success", output_tokens=5),
    # run r2 (summarize, starts Oct 1 23h, ends Oct 2): failure. Counted on its first day. Cost 1.00.
    dict(event_time=_t(1, 23), task="summarize", run_id="r2", cost_usd=1.00),
    dict(event_time=_t(2, 1), task="summarize", run_id="r2", outcome="failure", cost_usd=None, model="new-model"),
    # a request with no run id and no outcome (its own run), unattributed, unpriced
    dict(event_time=_t(2, 5), task="unattributed", run_id=None, request_id="q9", cost_usd=None, team=None),
])

TASKS_FRAME = conform(pl.LazyFrame([
    # 30 human minutes at $60/h = $30 per success; review 6 min = $6 per run
    dict(task="summarize", description="Summarize", human_minutes=30.0, hourly_rate_usd=60.0, review_minutes=6.0,
         latency_sensitive=False),
    dict(task="idle_task", description="Never ran", human_minutes=10.0, hourly_rate_usd=60.0, review_minutes=0.0,
         latency_sensitive=True),
]), TASKS)


def test_task_daily_counts_runs_on_their_first_day():
    got = task_daily(USAGE).collect()
    expected = pl.DataFrame(
        {
            "day": [date(2026, 10, 1), date(2026, 10, 2)],
            "task": ["summarize", "unattributed"],
            "team": ["core", None],
            "runs": [2, 1],
            "successes": [1, 0],
            "failures": [1, 0],
            "requests": [5, 1],
            "error_requests": [1, 0],
            "unpriced_requests": [1, 1],
            "ai_cost_usd": [0.10 + 0.20 + 0.30 + 1.00, None],
        },
        schema_overrides={c: pl.Int64 for c in ["runs", "successes", "failures", "requests", "error_requests", "unpriced_requests"]},
    )
    assert_frame_equal(got, expected, check_dtypes=False)


def test_a_request_with_neither_run_nor_request_id_is_a_run_of_its_own():
    """Aggregate sources may log neither id: each such row is one run, never merged with another or a keyed run."""
    usage = _usage([
        dict(event_time=_t(3, 9), task="summarize", run_id="r7", cost_usd=0.5),
        dict(event_time=_t(3, 10), task="summarize", run_id="r7", cost_usd=0.5, outcome="success"),
        dict(event_time=_t(3, 11), task="summarize", run_id=None, request_id=None, cost_usd=0.25),
        dict(event_time=_t(3, 12), task="summarize", run_id=None, request_id=None, cost_usd=0.25),
        dict(event_time=_t(3, 13), task="summarize", run_id=None, request_id="q1", cost_usd=0.25),
    ])
    got = task_daily(usage).collect()
    assert got.select("runs", "successes", "requests").rows() == [(4, 1, 5)]


def test_task_roi_by_hand():
    got = task_roi(task_daily(USAGE), TASKS_FRAME).collect()
    ai = 1.60
    avoided = 1 * 30.0            # one success x $30
    review = 2 * 6.0              # two runs x $6
    net = avoided - ai - review   # 30 - 1.6 - 12 = 16.4
    rows = {r["task"]: r for r in got.to_dicts()}
    s = rows["summarize"]
    assert s["runs"] == 2 and s["successes"] == 1 and s["failures"] == 1
    assert abs(s["ai_cost_usd"] - ai) < 1e-12
    assert abs(s["human_cost_avoided_usd"] - avoided) < 1e-12
    assert abs(s["review_cost_usd"] - review) < 1e-12
    assert abs(s["net_savings_usd"] - net) < 1e-12
    assert abs(s["roi"] - net / (ai + review)) < 1e-12
    assert abs(s["cost_per_success_usd"] - ai) < 1e-12
    assert s["success_rate"] == 0.5
    # a catalog task with no runs: zero everything, no ratio
    idle = rows["idle_task"]
    assert idle["runs"] == 0 and idle["ai_cost_usd"] == 0.0 and idle["roi"] is None
    # unpriced unattributed work: unknown cost stays unknown, never $0, and avoids nothing
    un = rows["unattributed"]
    assert un["ai_cost_usd"] is None and un["net_savings_usd"] is None and un["human_cost_avoided_usd"] == 0.0
    assert got["task"].to_list()[0] == "summarize"  # ranked by net savings


def test_usage_daily_keeps_unpriced_out_of_cost():
    got = usage_daily(USAGE).collect()
    new_model = got.filter(pl.col("model") == "new-model")
    assert new_model["cost_usd"].to_list() == [None]
    assert new_model["unpriced_requests"].to_list() == [1]
    oct1 = got.filter((pl.col("day") == date(2026, 10, 1)) & (pl.col("model") == "gpt-4o"))
    assert oct1["requests"].to_list() == [4]
    assert abs(oct1["cost_usd"][0] - 1.60) < 1e-12
    assert oct1["input_tokens"].to_list() == [200]
    assert oct1["total_tokens"].to_list() == [215]
    assert got["requests"].sum() == 6


def test_spend_daily_keeps_billed_and_effective_apart():
    lines = conform(pl.LazyFrame([
        dict(x_line_id="1", ChargePeriodStart=datetime(2026, 10, 1, 0), ProviderName="AWS", ServiceName="Bedrock",
             ChargeCategory="Usage", BilledCost=2.0, EffectiveCost=1.5, BillingCurrency="USD", x_is_ai=True,
             x_model="m", x_source="b", x_source_file="f"),
        dict(x_line_id="2", ChargePeriodStart=datetime(2026, 10, 1, 13), ProviderName="AWS", ServiceName="Bedrock",
             ChargeCategory="Usage", BilledCost=3.0, EffectiveCost=3.0, BillingCurrency="USD", x_is_ai=True,
             x_model="m", x_source="b", x_source_file="f"),
        dict(x_line_id="3", ChargePeriodStart=datetime(2026, 10, 2, 0), ProviderName="AWS", ServiceName="S3",
             ChargeCategory="Usage", BilledCost=1.0, EffectiveCost=1.0, BillingCurrency="USD", x_is_ai=None,
             x_source="b", x_source_file="f"),
    ]), COST_LINES)
    got = spend_daily(lines).collect()
    assert got.select("day", "service_name", "billed_cost", "effective_cost", "line_count", "is_ai").to_dicts() == [
        dict(day=date(2026, 10, 1), service_name="Bedrock", billed_cost=5.0, effective_cost=4.5, line_count=2, is_ai=True),
        dict(day=date(2026, 10, 2), service_name="S3", billed_cost=1.0, effective_cost=1.0, line_count=1, is_ai=False),
    ]


def _allocated(rows: list[tuple]) -> pl.LazyFrame:
    return pl.LazyFrame(rows, orient="row", schema={
        "day": pl.Date, "provider": pl.String, "model": pl.String, "task": pl.String, "team": pl.String,
        "basis": pl.String, "billed_cost_usd": pl.Float64, "effective_cost_usd": pl.Float64})


# A third task, not in the catalog: one successful run on Oct 3 ($1 logged).
USAGE_COSTLY = pl.concat([USAGE, _usage([
    dict(event_time=_t(3), task="costly", run_id="c1", cost_usd=1.0, outcome="success"),
])])
ALLOCATED = _allocated([
    (date(2026, 10, 1), "openai", "gpt-4o", "summarize", "core", "usage_share", 2.0, 1.0),
    # r2's second request fell on Oct 2: allocated there though the run counts on Oct 1
    (date(2026, 10, 2), "openai", "gpt-4o", "summarize", "core", "usage_share", 0.5, 0.5),
    (date(2026, 10, 2), "aws", None, "unattributed", None, "not_model_usage", 40.0, 40.0),
    (date(2026, 10, 2), "openai", "new-model", "unattributed", None, "logs_only", None, None),
    (date(2026, 10, 3), "openai", "gpt-4o", "costly", "core", "usage_share", 3.0, 3.0),
])


def test_task_daily_carries_allocated_cost_per_day_task_team():
    got = task_daily(USAGE_COSTLY, ALLOCATED).collect()
    keys = ["day", "task", "team", "runs", "ai_cost_usd", "allocated_cost_usd"]
    expected = pl.DataFrame(
        [
            (date(2026, 10, 1), "summarize", "core", 2, 1.60, 2.0),
            (date(2026, 10, 2), "summarize", "core", 0, None, 0.5),   # no run starts that day
            (date(2026, 10, 2), "unattributed", None, 1, None, 40.0),  # 40 + NULL (unpriced logs): 40
            (date(2026, 10, 3), "costly", "core", 1, 1.0, 3.0),
        ],
        orient="row", schema={"day": pl.Date, "task": pl.String, "team": pl.String, "runs": pl.Int64,
                              "ai_cost_usd": pl.Float64, "allocated_cost_usd": pl.Float64},
    )
    assert_frame_equal(got.select(keys), expected, abs_tol=1e-12)


def test_task_roi_on_allocated_cost_ranks_the_losers():
    got = task_roi(task_daily(USAGE_COSTLY, ALLOCATED), TASKS_FRAME).collect()
    rows = {r["task"]: r for r in got.to_dicts()}
    s = rows["summarize"]
    # allocated 2.0 + 0.5 = 2.5; avoided $30 (one success); review 2 x $6 = 12; net 30 - 2.5 - 12 = 15.5
    assert abs(s["allocated_cost_usd"] - 2.5) < 1e-12
    assert abs(s["allocated_cost_per_success_usd"] - 2.5) < 1e-12
    assert abs(s["allocated_net_savings_usd"] - 15.5) < 1e-12
    assert abs(s["allocated_roi"] - 15.5 / 14.5) < 1e-12
    assert s["loses_money"] is False and s["loss_rank"] is None
    assert abs(s["net_savings_usd"] - 16.4) < 1e-12  # the logs' figure is unchanged
    # unattributed: $40 of GPU compute avoids nothing -> net -40, roi -1, loses most
    u = rows["unattributed"]
    assert u["allocated_cost_usd"] == 40.0 and u["allocated_net_savings_usd"] == -40.0 and u["allocated_roi"] == -1.0
    assert u["loses_money"] is True and u["loss_rank"] == 1
    # costly: not in the catalog, $3 billed -> net -3, second loser
    c = rows["costly"]
    assert c["allocated_net_savings_usd"] == -3.0 and c["loses_money"] is True and c["loss_rank"] == 2
    # a catalog task that never ran and was billed nothing: $0, neither wins nor loses
    idle = rows["idle_task"]
    assert idle["allocated_cost_usd"] == 0.0 and idle["loses_money"] is False and idle["loss_rank"] is None


def test_task_roi_without_allocation_uses_the_logs_cost_and_keeps_unknown_unknown():
    got = task_roi(task_daily(USAGE), TASKS_FRAME).collect()
    rows = {r["task"]: r for r in got.to_dicts()}
    assert abs(rows["summarize"]["allocated_cost_usd"] - 1.60) < 1e-12
    # unpriced unattributed work: unknown stays unknown, so it is neither a winner nor a loser
    un = rows["unattributed"]
    assert un["allocated_cost_usd"] is None and un["loses_money"] is None and un["loss_rank"] is None
