"""Frames in the warehouse's own shapes, for transform tests: one builder per table, neutral defaults.

Each test names what matters to it (`usage_events(rows, provider="aws", task="t")`); everything else gets a
value that changes no figure: no tokens, one request, status ok, not batch. Columns are conformed to the
table's schema, so a builder never drifts from the migrations.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.schemas import COST_LINES, PEOPLE, PERSON_ACTIVITY, SEATS, TASKS, USAGE_EVENTS, WORK_ITEMS, conform

_LINE = dict(ProviderName="AWS", ServiceName="Amazon Bedrock", ChargeCategory="Usage", BillingCurrency="USD",
             x_is_ai=True, x_ai_category="model_usage", x_source="bill", x_source_file="f")
_EVENT = dict(request_count=1, input_tokens=0, cache_read_tokens=0, cache_write_tokens=0, output_tokens=0,
              reasoning_tokens=0, is_batch=False, status="ok", outcome=None, x_source="logs", x_source_file="f")
_TASK = dict(description="d", human_minutes=10.0, hourly_rate_usd=60.0, review_minutes=0.0, latency_sensitive=True,
             eligible_models=None)


def cost_lines(rows: list[dict], **defaults) -> pl.LazyFrame:
    """Billed lines, numbered `x_line_id` 0, 1, ...; a line's charge period is one day and, unless given,
    its EffectiveCost is its BilledCost."""
    out = []
    for i, r in enumerate(rows):
        row = {**_LINE, **defaults, "x_line_id": str(i), **r}
        row.setdefault("ChargePeriodEnd", row["ChargePeriodStart"] + timedelta(days=1))
        row.setdefault("EffectiveCost", row.get("BilledCost"))
        out.append(row)
    return conform(pl.LazyFrame(out, infer_schema_length=None), COST_LINES)


def usage_events(rows: list[dict], **defaults) -> pl.LazyFrame:
    return conform(pl.LazyFrame([{**_EVENT, **defaults, **r} for r in rows], infer_schema_length=None), USAGE_EVENTS)


def tasks(rows: list[dict], **defaults) -> pl.LazyFrame:
    return conform(pl.LazyFrame([{**_TASK, **defaults, **r} for r in rows], infer_schema_length=None,
                                schema_overrides={"eligible_models": pl.List(pl.String)}), TASKS)


def work_items(rows: list[dict], **defaults) -> pl.LazyFrame:
    """Work records; unless given, an item is closed and not marked AI-assisted either way (NULL)."""
    return conform(pl.LazyFrame([{"x_source": "work", "x_source_file": "f", **defaults, **r} for r in rows],
                                infer_schema_length=None), WORK_ITEMS)


def with_options(source, options: dict):
    """The same source with other options, checked by the kind's options model as a config would be."""
    from pipelines.config import SourceConfig

    return SourceConfig.model_validate({**source.model_dump(exclude={"options"}), "options": options})


# --- people, seats and their activity (already normalized, as loads store them) ---------------------------------
_PERSON = dict(identity_kind="email", valid_from=None, x_source="people", x_source_file="people.yaml")
_SEAT = dict(seat_count=1, currency="USD", price_source="plan_list_price", x_source="subs", x_source_file="f")
_ACTIVITY = dict(record="activity", x_source="report", x_source_file="f")


def people(rows: list[dict], **defaults) -> pl.LazyFrame:
    return conform(pl.LazyFrame([{**_PERSON, **defaults, **r} for r in rows], infer_schema_length=None), PEOPLE)


def seats(rows: list[dict], **defaults) -> pl.LazyFrame:
    """Seat rows; `monthly_price_usd` defaults to `monthly_price` (USD)."""
    out = []
    for r in rows:
        row = {**_SEAT, **defaults, **r}
        row.setdefault("monthly_price", row.get("monthly_price_usd"))
        row.setdefault("monthly_price_usd", row["monthly_price"] if row["currency"] == "USD" else None)
        out.append(row)
    return conform(pl.LazyFrame(out, infer_schema_length=None), SEATS)


def person_activity(rows: list[dict], **defaults) -> pl.LazyFrame:
    return conform(pl.LazyFrame([{**_ACTIVITY, **defaults, **r} for r in rows], infer_schema_length=None),
                   PERSON_ACTIVITY)
