"""How the finance marts read the warehouse (docs/finance.md): changes_after_close, chargeback, month_to_date.

Each is a `Whole` mart of pipelines/marts.py: small rollups over allocated_cost, person_monthly, usage_daily, the
bill's AI lines and the closed-month tables the command line writes (`aispend close`, pipelines/finance/close.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from pipelines.finance.money import MINOR_UNITS
from pipelines.reads import ai_cost_lines
from pipelines.transforms.accrual import month_to_date
from pipelines.transforms.chargeback import chargeback
from pipelines.transforms.close import changes_after_close, line_snapshot, month_figures
from warehouse.schema import empty

SEATS = "seats"  # the basis (and task) of figures rows holding seats and overage no loaded bill carries

if TYPE_CHECKING:
    from pipelines.marts import Reads


def current_lines(r: Reads) -> pl.LazyFrame:
    """Every AI line now, with its amounts in its own currency and at its charge day's rate."""
    return line_snapshot(r.fx.rate_of_lines(ai_cost_lines(r.con, also=["x_source_file"])).lazy())


def changes_after_close_mart(r: Reads) -> pl.LazyFrame | pl.DataFrame:
    months = r.table("closed_months")
    if not months.select(pl.len()).collect().item():
        return empty("changes_after_close")
    return changes_after_close(r.table("closed_lines"), current_lines(r), months)


def seats_and_overage(r: Reads) -> pl.LazyFrame:
    """Seats and usage billed beyond them that no loaded bill carries, per month, vendor and team, as figures
    rows (basis `seats`, task `seats`): THE one place chargeback, a close and the report take them from.

    person_monthly's `not_on_bills_usd` (in the reporting currency): what budgets add to the bills too. A seat or
    overage a loaded bill carries is already in allocated_cost (shared, as a line no request used); a seat of no
    team goes to the shared pool.
    """
    cost = pl.col("not_on_bills_usd")
    return (
        r.table("person_monthly").filter(cost.is_not_null() & (cost != 0))
        .group_by("month", "vendor", "team").agg(cost.sum().alias("billed_cost"))
        .select("month", pl.col("vendor").alias("provider"), pl.lit(None, pl.String).alias("model"),
                pl.lit(SEATS).alias("task"), "team", pl.lit(SEATS).alias("basis"), "billed_cost",
                pl.col("billed_cost").alias("effective_cost"))
    )


def chargeback_figures(r: Reads) -> pl.LazyFrame:
    """The figures per month, seats included: closed months' as closed, the others' from allocated_cost and
    person_monthly now."""
    closed_months = r.table("closed_months").select("month")
    closed = r.table("closed_figures").with_columns(pl.lit(True).alias("is_closed"))
    current = (
        pl.concat([month_figures(r.table("allocated_cost")), seats_and_overage(r)], how="vertical_relaxed")
        .join(closed_months, on="month", how="anti")
        .with_columns(pl.lit(r.fx.currency).alias("currency"), pl.lit(False).alias("is_closed"))
    )
    return pl.concat([closed, current.select(closed.collect_schema().names())], how="vertical_relaxed")


def chargeback_mart(r: Reads) -> pl.LazyFrame:
    rules = r.config.finance.chargeback
    figures = chargeback_figures(r)
    is_seat = pl.col("basis") == SEATS
    seats = figures.filter(is_seat).select("month", "team", pl.col("billed_cost").alias("cost"), "currency",
                                           "is_closed")
    return chargeback(figures.filter(~is_seat), seats, rule=rules.rule, owner=rules.owner,
                      cost_basis=rules.cost_basis, cost_centers=rules.cost_centers, minor_units=MINOR_UNITS)


def month_to_date_mart(r: Reads) -> pl.LazyFrame | pl.DataFrame:
    allocated = r.table("allocated_cost")
    as_of = allocated.select(pl.col("day").max()).collect().item()
    if as_of is None:
        return empty("month_to_date")
    currency = r.fx.currency
    same_currency = r.table("closed_months").filter(pl.col("currency") == currency).select("month")
    closed = r.table("closed_figures").join(same_currency, on="month", how="semi")
    return month_to_date(allocated, r.table("usage_daily"), closed, as_of, currency,
                         r.config.finance.accrual_months)
