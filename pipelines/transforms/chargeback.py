"""chargeback: what each team is charged for a month's AI spend, adding up to the month exactly (docs/finance.md).

Per month, from the month's allocated figures (allocated_cost summed over the month, or the month's closed
figures once it is closed, which then never move):
- direct cost: the allocated cost of the team's own tasks (rows with a task other than `unattributed` and a
  team), invoice-true where invoices exist, the logs' priced cost where they don't yet (`logs_only`);
- seats cost: seats and overage of the team's people, from `seats` (month, team, cost);
- shared cost: everything else (GPU compute, credits, lines no request used, requests that named no task or no
  team, seats of people in no team), spread over the month's teams by the rule:
  `proportional` to each team's direct cost (evenly when no team has any), `even`, or `owner` (all to one team).

Rounding, so teams add up to the month to the cent: the month's total is rounded once to the currency's minor
unit (cents; whole units for JPY); each team's direct and seats cost is rounded on its own; the shared pool is
the rounded total minus those (so it also absorbs their rounding, under half a cent per team); the pool is then
split in whole cents by largest remainders (Hamilton's method: floor each team's exact share, then hand the
cents left, one each, to the largest remainders, ties to the team named first). So for every month and rule,
sum(total_cost) over teams = round(month's AI spend, 2) exactly, in integer cents.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pipelines.schemas import UNATTRIBUTED

PROPORTIONAL, EVEN, OWNER = "proportional", "even", "owner"
COLUMNS = ["month", "team", "cost_center", "direct_cost", "seats_cost", "shared_cost", "total_cost", "currency",
           "rule", "cost_basis", "is_closed"]


def is_direct() -> pl.Expr:
    """Cost a team's own tasks explain: a named task and a named team."""
    return (pl.col("task") != UNATTRIBUTED) & pl.col("team").is_not_null()


def cents(amount: pl.Expr, scale: pl.Expr) -> pl.Expr:
    """An amount in whole minor units (half away from zero)."""
    scaled = amount * scale
    return (scaled.sign() * (scaled.abs() + 0.5).floor()).cast(pl.Int64)


def apportion(group: list[str], weight: str, units: str) -> pl.Expr:
    """Largest remainders: `units` (an integer per group, any sign) split over the group's rows by `weight`
    (>= 0, summing to > 0), in whole units that add up to `units` exactly. Ties go to the row that comes first
    in the frame."""
    total = pl.col(weight).sum().over(group)
    exact = pl.col(units).abs().cast(pl.Float64) * pl.col(weight) / total
    base = exact.floor().cast(pl.Int64)
    left = pl.col(units).abs() - base.sum().over(group)
    rank = (exact - base).rank("ordinal", descending=True).over(group)
    return (pl.col(units).sign() * (base + (rank <= left).cast(pl.Int64))).alias(f"{units}_split")


def chargeback(
    figures: pl.LazyFrame,
    seats: pl.LazyFrame,
    *,
    rule: str = PROPORTIONAL,
    owner: str | None = None,
    cost_basis: str = "billed",
    cost_centers: Mapping[str, str] | None = None,
    minor_units: Mapping[str, int] | None = None,
) -> pl.LazyFrame:
    """One row per month and team.

    `figures`: month, task, team, billed_cost, effective_cost, currency, is_closed (allocated or closed figures);
    `seats`: month, team, cost, currency, is_closed (seats and overage no bill carries; a month may have only
    these); `minor_units`: currency -> decimals (default 2).
    """
    amount = "billed_cost" if cost_basis == "billed" else "effective_cost"
    scale = pl.col("currency").replace_strict({c: 10.0 ** min(d, 2) for c, d in (minor_units or {}).items()},
                                              default=100.0, return_dtype=pl.Float64)
    months = (pl.concat([figures.select("month", "currency", "is_closed"), seats.select("month", "currency", "is_closed")])
              .group_by("month").agg(pl.col("currency").first(), pl.col("is_closed").first()))
    direct = figures.filter(is_direct()).group_by("month", "team").agg(pl.col(amount).sum().alias("direct"))
    seat_rows = seats.group_by("month", "team").agg(pl.col("cost").sum().alias("seats"))
    month_total = (
        pl.concat([figures.select("month", pl.col(amount).alias("cost")), seats.select("month", "cost")])
        .group_by("month").agg(pl.col("cost").sum().alias("total"))
    )
    named = pl.concat([direct.select("month", "team"), seat_rows.select("month", "team")]).filter(
        pl.col("team").is_not_null())
    if rule == OWNER and owner:
        named = pl.concat([named, months.select("month", pl.lit(owner).alias("team"))])
    teams = named.unique()
    # A month in which no team has any cost: one row with team NULL carries the whole month as shared.
    teams = pl.concat([teams, months.join(teams, on="month", how="anti").select("month", pl.lit(None, pl.String)
                                                                                .alias("team"))])
    rows = (
        teams.join(months, on="month", how="left")
        .join(direct, on=["month", "team"], how="left", nulls_equal=True)
        .join(seat_rows, on=["month", "team"], how="left", nulls_equal=True)
        .join(month_total, on="month", how="left")
        .with_columns(pl.col("direct", "seats").fill_null(0.0), scale.alias("scale"))
        .with_columns(
            cents(pl.col("direct"), pl.col("scale")).alias("direct_units"),
            cents(pl.col("seats"), pl.col("scale")).alias("seats_units"),
            cents(pl.col("total"), pl.col("scale")).alias("total_units"),
        )
        .with_columns(
            (pl.col("total_units") - (pl.col("direct_units") + pl.col("seats_units")).sum().over("month"))
            .alias("shared_units"),
            _weight(rule, owner).alias("weight"),
        )
        .with_columns(
            pl.when(pl.col("weight").sum().over("month") > 0).then(pl.col("weight")).otherwise(1.0).alias("weight")
        )
        .sort("month", "team", nulls_last=True)
    )
    centers = cost_centers or {}
    return (
        rows.with_columns(apportion(["month"], "weight", "shared_units"))
        .with_columns(
            (pl.col("direct_units") / pl.col("scale")).alias("direct_cost"),
            (pl.col("seats_units") / pl.col("scale")).alias("seats_cost"),
            (pl.col("shared_units_split") / pl.col("scale")).alias("shared_cost"),
            ((pl.col("direct_units") + pl.col("seats_units") + pl.col("shared_units_split")) / pl.col("scale"))
            .alias("total_cost"),
            pl.col("team").replace_strict(centers, default=None, return_dtype=pl.String).alias("cost_center"),
            pl.lit(rule).alias("rule"),
            pl.lit(cost_basis).alias("cost_basis"),
        )
        .select(COLUMNS)
        .sort("month", "team", nulls_last=True)
    )


def _weight(rule: str, owner: str | None) -> pl.Expr:
    """Each team's claim on the shared pool (a month whose weights sum to 0 splits evenly)."""
    if rule == EVEN:
        return pl.lit(1.0)
    if rule == OWNER:
        return (pl.col("team") == owner).fill_null(False).cast(pl.Float64)
    return pl.col("direct").clip(lower_bound=0.0)
