"""Closed months: what is stored when a month closes, and what later data would change (docs/finance.md).

A month closes on its AI spend as the marts allocate it (`closed_figures`: allocated_cost summed over the
month's days per provider, model, task, team and basis) and on the AI lines behind it (`closed_lines`: each line
with its amounts in its own currency and, at its charge day's rate, in the reporting currency). Months are UTC
months of the charge day, as everywhere in the marts.

`changes_after_close` compares the lines of each closed month now with the lines as closed, by `x_line_id`
(a source's own line id, stable across re-deliveries: CUR's identity_line_item_id and usage start, FOCUS's
id column): a line only in the data now is `added`, one only as closed is `removed`, one whose amounts differ
is `changed`. Each row carries the amount the month's spend would move by, in the billing currency and in the
reporting currency, so a month's rows add up to what the restated data would change.
"""

from __future__ import annotations

import polars as pl

from pipelines.transforms.providers import invoice_provider

FIGURE_KEYS = ["provider", "model", "task", "team", "basis"]
LINE_COLUMNS = [
    "month", "x_line_id", "x_source", "x_source_file", "provider", "service_name", "model", "charge_category",
    "charge_day", "billing_currency", "billed_cost", "effective_cost", "billed_cost_reporting",
    "effective_cost_reporting",
]
_DESCRIBE = ["x_source", "x_source_file", "provider", "service_name", "model", "charge_category", "charge_day",
             "billing_currency"]
_AMOUNTS = ["billed_cost", "effective_cost", "billed_cost_reporting", "effective_cost_reporting"]


def month_of_day(column: str = "day") -> pl.Expr:
    return pl.col(column).dt.truncate("1mo").alias("month")


def month_figures(allocated: pl.LazyFrame) -> pl.LazyFrame:
    """allocated_cost summed per month, provider, model, task, team and basis (the figures a close keeps)."""
    return (
        allocated.with_columns(month_of_day())
        .group_by(["month", *FIGURE_KEYS])
        .agg(pl.col("billed_cost_usd").sum().alias("billed_cost"), pl.col("effective_cost_usd").sum()
             .alias("effective_cost"))
        .sort(["month", *FIGURE_KEYS], nulls_last=True)
    )


def line_snapshot(lines: pl.LazyFrame) -> pl.LazyFrame:
    """The AI lines (`x_is_ai`, as allocated) with a rate (`x_fx_rate`), in closed_lines' columns."""
    day = pl.col("ChargePeriodStart").dt.date()
    effective = pl.col("EffectiveCost").fill_null(pl.col("BilledCost"))
    return lines.filter(pl.col("x_is_ai").fill_null(False)).select(
        day.dt.truncate("1mo").alias("month"),
        "x_line_id",
        "x_source",
        "x_source_file",
        invoice_provider(),
        pl.col("ServiceName").alias("service_name"),
        pl.col("x_model").alias("model"),
        pl.col("ChargeCategory").alias("charge_category"),
        day.alias("charge_day"),
        pl.col("BillingCurrency").alias("billing_currency"),
        pl.col("BilledCost").alias("billed_cost"),
        effective.alias("effective_cost"),
        (pl.col("BilledCost") * pl.col("x_fx_rate")).alias("billed_cost_reporting"),
        (effective * pl.col("x_fx_rate")).alias("effective_cost_reporting"),
    )


def _differs() -> pl.Expr:
    return pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_now")) for c in _AMOUNTS + ["charge_day"]])


def changes_after_close(closed_lines: pl.LazyFrame, current: pl.LazyFrame, closed_months: pl.LazyFrame
                        ) -> pl.LazyFrame:
    """Per closed month, the lines that differ between the data now (`current`, a `line_snapshot`) and as
    closed. `closed_months` has `month` and `currency` (the reporting currency of the closed figures)."""
    months = closed_months.select("month", "currency")
    now = current.join(months.select("month"), on="month", how="semi")
    keys = ["month", "x_line_id"]
    both = closed_lines.select(*keys, *_DESCRIBE, *_AMOUNTS).join(
        now.select(*keys, *_DESCRIBE, *_AMOUNTS), on=keys, how="full", suffix="_now", coalesce=True,
    )
    closed_side, now_side = pl.col("x_source").is_not_null(), pl.col("x_source_now").is_not_null()
    change = (
        pl.when(closed_side & ~now_side).then(pl.lit("removed"))
        .when(~closed_side & now_side).then(pl.lit("added"))
        .when(_differs()).then(pl.lit("changed"))
        .otherwise(None)
    )
    pick = lambda c: pl.coalesce(pl.col(f"{c}_now"), pl.col(c)).alias(c)  # noqa: E731 - the data now wins
    delta = lambda c: (pl.col(f"{c}_now").fill_null(0.0) - pl.col(c).fill_null(0.0))  # noqa: E731
    return (
        both.with_columns(change.alias("change"))
        .filter(pl.col("change").is_not_null())
        .join(months, on="month", how="left")
        .select(
            "month", "change", "x_line_id", *[pick(c) for c in _DESCRIBE],
            pl.col("billed_cost").alias("closed_billed_cost"),
            pl.col("billed_cost_now").alias("current_billed_cost"),
            delta("billed_cost").alias("billed_change"),
            delta("billed_cost_reporting").alias("billed_change_reporting"),
            delta("effective_cost_reporting").alias("effective_change_reporting"),
            "currency",
        )
        .sort("month", "change", "x_line_id")
    )
