"""month_to_date: the open month's invoice so far and, separately, the expected rest (docs/finance.md).

Invoices arrive late: a provider's daily lines lag a day or two, a monthly bill comes after the month. For the
open month (the month of the newest day allocated), per provider:
- `invoiced_cost`: what AI lines billed so far (allocated_cost rows other than `logs_only`);
- `uninvoiced_logged_cost`: what the logs priced on the provider's days that no AI line covers yet
  (allocated_cost's `logs_only` rows), with the requests there that had no price (`unpriced_requests`);
- `ratio`: how the provider's invoices for requests compared with its logs before: the model usage it billed
  (allocated bases `usage_share`, `token_share`, `no_usage`, `unknown_model`: what requests are billed for,
  logged or not) over the logs' priced cost, summed over its last `months` closed months (from the closed
  figures); with no closed month, its last complete months before the open one; with neither, 1 (the logs'
  own price). GPU hours, provisioned capacity and credits are left out of the ratio: the logs cannot scale
  them. `ratio_low` / `ratio_high` are the lowest and highest single month's ratio;
- `expected_rest` = uninvoiced_logged_cost x ratio (low and high likewise): an estimate, never added to
  `invoiced_cost` and never written into any billed figure.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.transforms.allocate import LOGS_ONLY, NO_USAGE, TOKEN_SHARE, UNKNOWN_MODEL, USAGE_SHARE

# The allocated bases that are model usage billed by an invoice: what the invoice-to-logs ratio compares.
BILLED_USAGE = [USAGE_SHARE, TOKEN_SHARE, NO_USAGE, UNKNOWN_MODEL]
COLUMNS = ["month", "as_of", "provider", "invoiced_cost", "uninvoiced_logged_cost", "unpriced_requests", "ratio",
           "ratio_low", "ratio_high", "ratio_months", "ratio_basis", "expected_rest", "expected_rest_low",
           "expected_rest_high", "currency"]


def _month() -> pl.Expr:
    return pl.col("day").dt.truncate("1mo").alias("month")


def monthly_ratios(invoiced: pl.LazyFrame, logged: pl.LazyFrame, basis: str) -> pl.LazyFrame:
    """(provider, month, invoiced, logged) of months with both sides > 0, labelled with `basis`."""
    return (
        invoiced.join(logged, on=["provider", "month"], how="inner")
        .filter((pl.col("invoiced") > 0) & (pl.col("logged") > 0))
        .with_columns(pl.lit(basis).alias("ratio_basis"))
    )


def provider_ratio(candidates: pl.LazyFrame, months: int) -> pl.LazyFrame:
    """Per provider, from its most recent `months` candidate months of the best basis it has (closed first)."""
    order = pl.col("ratio_basis").replace_strict({"closed_months": 0, "complete_months": 1}, return_dtype=pl.Int8)
    best = candidates.with_columns(order.alias("_order")).filter(pl.col("_order") == pl.col("_order").min()
                                                                 .over("provider"))
    recent = best.filter(pl.col("month").rank("ordinal", descending=True).over("provider") <= months)
    single = pl.col("invoiced") / pl.col("logged")
    return recent.group_by("provider").agg(
        (pl.col("invoiced").sum() / pl.col("logged").sum()).alias("ratio"),
        single.min().alias("ratio_low"),
        single.max().alias("ratio_high"),
        pl.len().cast(pl.Int64).alias("ratio_months"),
        pl.col("ratio_basis").first(),
    )


def uninvoiced(is_logs: pl.Expr) -> pl.Expr:
    """The logs' cost on uncovered days: 0 when there are none, NULL when all of it is unpriced (never 0)."""
    cost = pl.col("billed_cost_usd").filter(is_logs)
    return (
        pl.when(cost.len() == 0).then(0.0)
        .when(cost.is_not_null().any()).then(cost.sum())
        .otherwise(None)
        .alias("uninvoiced_logged_cost")
    )


def month_to_date(
    allocated: pl.LazyFrame,
    usage_daily: pl.LazyFrame,
    closed: pl.LazyFrame,
    as_of: date,
    currency: str,
    months: int = 3,
) -> pl.LazyFrame:
    """One row per provider with spend in the month of `as_of`.

    `allocated`: allocated_cost; `usage_daily`: the usage_daily mart (cost in the reporting currency);
    `closed`: closed_figures of closed months in the same currency (month, provider, basis, billed_cost).
    """
    open_month = as_of.replace(day=1)
    alloc = allocated.filter(pl.col("day") <= as_of).with_columns(_month())
    is_logs = pl.col("basis") == LOGS_ONLY
    current = alloc.filter(pl.col("month") == open_month).group_by("provider").agg(
        pl.col("billed_cost_usd").filter(~is_logs).sum().alias("invoiced_cost"),
        uninvoiced(is_logs),
    )
    gaps = alloc.filter((pl.col("month") == open_month) & is_logs).select("provider", "day").unique()
    unpriced = usage_daily.join(gaps, on=["provider", "day"], how="semi").group_by("provider").agg(
        pl.col("unpriced_requests").sum().cast(pl.Int64))
    logged = (usage_daily.with_columns(_month()).filter(pl.col("month") < open_month)
              .group_by("provider", "month").agg(pl.col("cost_usd").sum().alias("logged")))
    usage = pl.col("basis").is_in(BILLED_USAGE)
    closed_invoiced = (closed.filter(usage & (pl.col("month") < open_month))
                       .group_by("provider", "month").agg(pl.col("billed_cost").sum().alias("invoiced")))
    complete_invoiced = (alloc.filter(usage & (pl.col("month") < open_month))
                         .group_by("provider", "month").agg(pl.col("billed_cost_usd").sum().alias("invoiced")))
    ratios = provider_ratio(pl.concat([
        monthly_ratios(closed_invoiced, logged, "closed_months"),
        monthly_ratios(complete_invoiced, logged, "complete_months"),
    ]), months)
    scaled = lambda name, r: (pl.col("uninvoiced_logged_cost") * pl.col(r)).alias(name)  # noqa: E731
    return (
        current.join(ratios, on="provider", how="left")
        .join(unpriced, on="provider", how="left")
        .with_columns(
            pl.col("ratio", "ratio_low", "ratio_high").fill_null(1.0),
            pl.col("ratio_months").fill_null(0),
            pl.col("ratio_basis").fill_null("none"),
            pl.col("unpriced_requests").fill_null(0),
        )
        .with_columns(
            scaled("expected_rest", "ratio"), scaled("expected_rest_low", "ratio_low"),
            scaled("expected_rest_high", "ratio_high"),
            pl.lit(open_month).alias("month"), pl.lit(as_of).alias("as_of"), pl.lit(currency).alias("currency"),
        )
        .select(COLUMNS)
        .sort("provider")
    )
