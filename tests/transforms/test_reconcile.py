"""reconciliation on hand-made frames: every named part non-zero somewhere, each worked out in the comments."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.transforms.providers import invoice_provider
from pipelines.transforms.reconcile import PARTS, reconciliation
from tests.support.builders import cost_lines
from tests.support.builders import usage_events as _events


def lines(rows: list[dict]) -> pl.LazyFrame:
    return cost_lines(rows)


def usage(rows: list[dict]) -> pl.LazyFrame:
    return _events(rows, provider="aws", task="t", team="core")

OCT1, OCT2, NOV1 = datetime(2026, 10, 1), datetime(2026, 10, 2), datetime(2026, 11, 1)


COST = lines([
    # aws m1, Oct 1: input 1000 tokens list $10 billed $9 (list rate $0.01); output 100 list $5 billed $4.5 ($0.05)
    dict(ChargePeriodStart=OCT1, x_model="m1", x_token_type="input", ConsumedQuantity=1000.0, ListCost=10.0,
         BilledCost=9.0),
    dict(ChargePeriodStart=OCT1, x_model="m1", x_token_type="output", ConsumedQuantity=100.0, ListCost=5.0,
         BilledCost=4.5),
    # the same model billed in EUR: left out of every sum, counted in non_usd_lines
    dict(ChargePeriodStart=OCT1, x_model="m1", x_token_type="input", ConsumedQuantity=50.0, ListCost=1.0,
         BilledCost=1.0, BillingCurrency="EUR"),
    # aws m2, Oct 1: 500 input tokens billed $3 (list $4); its logged requests have no price
    dict(ChargePeriodStart=OCT1, x_model="m2", x_token_type="input", ConsumedQuantity=500.0, ListCost=4.0,
         BilledCost=3.0),
    # aws m3, Oct 2: 200 output tokens billed $1.6 (list $2), nothing logged
    dict(ChargePeriodStart=OCT2, x_model="m3", x_token_type="output", ConsumedQuantity=200.0, ListCost=2.0,
         BilledCost=1.6),
    # a monthly AI credit: a month-level row (day NULL) with no model
    dict(ChargePeriodStart=OCT1, ChargePeriodEnd=NOV1, ChargeCategory="Credit", BilledCost=-5.0,
         x_ai_category="ai_service"),
    # out of scope: GPU compute, tax, and a non-AI credit
    dict(ChargePeriodStart=OCT1, ServiceName="Amazon EC2", x_ai_category="ai_compute", BilledCost=100.0),
    dict(ChargePeriodStart=OCT1, ChargeCategory="Tax", x_ai_category="ai_service", BilledCost=7.0),
    dict(ChargePeriodStart=OCT1, ChargePeriodEnd=NOV1, ChargeCategory="Credit", BilledCost=-9.0, ServiceName="S3",
         x_is_ai=False, x_ai_category=None),
    # OpenAI billed per month: 1000 input tokens $2, no ListCost (so no discount is known; list rate $0.002)
    dict(ChargePeriodStart=OCT1, ChargePeriodEnd=NOV1, ProviderName="OpenAI", ServiceName="OpenAI API",
         x_model="gpt-x", x_token_type="input", ConsumedQuantity=1000.0, BilledCost=2.0),
])

USAGE = usage([
    # m1: a priced request (700 in, 100 out, $11) and an unpriced one (100 in)
    dict(event_time=datetime(2026, 10, 1, 9), model="m1", input_tokens=700, output_tokens=100, cost_usd=11.0),
    dict(event_time=datetime(2026, 10, 1, 10), model="m1", input_tokens=100, cost_usd=None),
    dict(event_time=datetime(2026, 10, 1, 11), model="m2", input_tokens=500, cost_usd=None),
    # m4 on Oct 2: logged and priced, never billed
    dict(event_time=datetime(2026, 10, 2, 8), model="m4", output_tokens=10, cost_usd=0.7),
    # gpt-x on two days of a monthly-billed month: rolled up to the month
    dict(event_time=datetime(2026, 10, 3, 8), provider="openai", model="gpt-x", input_tokens=600, cost_usd=0.9),
    dict(event_time=datetime(2026, 10, 20, 8), provider="openai", model="gpt-x", input_tokens=300, cost_usd=0.45),
])


def test_reconciliation_parts_by_hand():
    got = reconciliation(COST, USAGE).collect()
    d1, d2 = date(2026, 10, 1), date(2026, 10, 2)
    expected = pl.DataFrame(
        {
            "provider": ["aws", "aws", "aws", "aws", "aws", "openai"],
            "model": ["m1", "m2", "m3", "m4", None, "gpt-x"],
            "month": [d1] * 6,
            "day": [d1, d1, d2, d2, None, None],
            # m1: 9 + 4.5; m2: 3; m3: 1.6; m4: nothing billed; credit -5; gpt-x 2
            "billed_cost_usd": [13.5, 3.0, 1.6, 0.0, -5.0, 2.0],
            "logged_cost_usd": [11.0, None, None, 0.7, None, 1.35],
            "difference_usd": [2.5, 3.0, 1.6, -0.7, -5.0, 0.65],
            # 100 x 2.5 / 13.5; 100%; 100%; no bill: null; 100%; 100 x 0.65 / 2
            "difference_pct": [250 / 13.5, 100.0, 100.0, None, 100.0, 32.5],
            "credits_usd": [0.0, 0.0, 0.0, 0.0, -5.0, 0.0],
            # m1: 13.5 - 15; m2 all unpriced: no discount; m3: 1.6 - 2
            "discount_usd": [-1.5, 0.0, -0.4, 0.0, 0.0, 0.0],
            # m1: the unpriced request's 100 input tokens x $0.01; m2: its whole bill
            "unpriced_models_usd": [1.0, 3.0, 0.0, 0.0, 0.0, 0.0],
            # m1: (1000 - 800) x $0.01 + (100 - 100) x $0.05; m3: its list cost; gpt-x: (1000 - 900) x $0.002
            "missing_from_logs_usd": [2.0, 0.0, 2.0, 0.0, 0.0, 0.2],
            "missing_from_invoice_usd": [0.0, 0.0, 0.0, -0.7, 0.0, 0.0],
            # m1: 2.5 - (-1.5 + 1 + 2); gpt-x: 0.65 - 0.2
            "unexplained_usd": [1.0, 0.0, 0.0, 0.0, 0.0, 0.45],
            "invoice_lines": [2, 1, 1, 0, 1, 1],
            "non_usd_lines": [1, 0, 0, 0, 0, 0],
            "logged_requests": [2, 1, 0, 1, 0, 2],
            "unpriced_requests": [1, 1, 0, 0, 0, 0],
            "invoice_input_tokens": [1000.0, 500.0, 0.0, 0.0, 0.0, 1000.0],
            "invoice_output_tokens": [100.0, 0.0, 200.0, 0.0, 0.0, 0.0],
            "logged_input_tokens": [800, 500, 0, 0, 0, 900],
            "logged_output_tokens": [100, 0, 0, 10, 0, 0],
        },
        schema_overrides={c: pl.Int64 for c in ["invoice_lines", "non_usd_lines", "logged_requests",
                                                 "unpriced_requests", "logged_input_tokens", "logged_output_tokens"]},
    )
    assert_frame_equal(got.select(expected.columns), expected, abs_tol=1e-9)


def test_parts_add_up_to_the_difference_exactly():
    got = reconciliation(COST, USAGE).collect()
    total = got.select(pl.sum_horizontal(PARTS) - pl.col("difference_usd")).to_series()
    assert total.abs().max() < 1e-12


def test_invoice_provider_maps_billers_to_genai_prices_ids():
    frame = pl.LazyFrame({
        "ProviderName": ["AWS", "Amazon Web Services", "Microsoft", "Google Cloud", "OpenAI", "Anthropic", None,
                         "Oracle"],
        "ServiceName": ["Amazon Bedrock", "AmazonBedrock", "Azure OpenAI", "Vertex AI", "OpenAI API", "Claude API",
                        "Amazon Bedrock", "OCI Generative AI"],
    })
    got = frame.select(invoice_provider()).collect()["provider"].to_list()
    assert got == ["aws", "aws", "azure", "google", "openai", "anthropic", "aws", "oracle"]
