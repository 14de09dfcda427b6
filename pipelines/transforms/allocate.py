"""allocated_cost: the invoice's AI cost shared out to tasks and teams by what their requests used.

The invoice knows what was paid but not for which task; the logs know the task but price at list. Each billed
model-usage line is shared among the (task, team) rows that used that provider and model on the days its
charge period covers, in proportion to their priced cost (`usage_share`), or to their tokens when none of
those requests was priced (`token_share`: the invoice has the price the table lacks). Shares are cumulative
fractions, each row taking A x (cum_i / W) - A x (cum_(i-1) / W), so a line's rows sum back to the line's
amount (the last fraction is exactly 1).

What cannot be shared goes to task `unattributed`, team NULL, with a `basis` naming why: `no_usage` (no logged
request of that provider and model in the charge period), `unknown_model` (a model-usage line naming no model),
`not_model_usage` (accelerator compute, provisioned throughput, other AI services, tax), `credit` (Credit
lines). So per provider and day the allocated billed cost equals the invoice's AI lines exactly.

Where a provider's logs have a day that no AI line of that provider covers (no invoice at all, or a bill not
delivered yet), the logs' priced cost stands in (`logs_only`), for both the billed and the effective column,
and stays NULL where unpriced: task cost is invoice-true where invoices exist and never silently zero where
they don't. Amounts are in `currency`: the pipeline converts every line (and the logs' USD prices) to the
reporting currency first (pipelines/transforms/currency.py), so a bill in euros is allocated like one in
dollars; a line given here in another currency is left out.
"""

from __future__ import annotations

import polars as pl

from pipelines.schemas import UNATTRIBUTED
from pipelines.transforms.providers import invoice_provider
from pipelines.transforms.reconcile import MODEL_USAGE, in_currency, is_credit
from pipelines.transforms.usage import priced_sum, total_tokens

KEYS = ["day", "provider", "model", "task", "team", "basis"]
GROUP = ["provider", "model", "start_day", "end_day"]
USAGE_SHARE, TOKEN_SHARE, NO_USAGE = "usage_share", "token_share", "no_usage"
UNKNOWN_MODEL, NOT_MODEL_USAGE, CREDIT, LOGS_ONLY = "unknown_model", "not_model_usage", "credit", "logs_only"


def charge_window() -> list[pl.Expr]:
    """The UTC days a line's charge period touches: [start_day, end_day), at least one day."""
    start = pl.col("ChargePeriodStart").dt.date()
    end = (pl.col("ChargePeriodEnd") - pl.duration(microseconds=1)).dt.date() + pl.duration(days=1)
    next_day = start + pl.duration(days=1)
    return [
        start.alias("start_day"),
        pl.when(end.is_null() | (end < next_day)).then(next_day).otherwise(end).cast(pl.Date).alias("end_day"),
    ]


def line_basis() -> pl.Expr:
    """Why a line is not shared by usage; NULL for the lines that are (model usage naming a model)."""
    usage = (pl.col("x_ai_category") == MODEL_USAGE).fill_null(False)
    return (
        pl.when(is_credit()).then(pl.lit(CREDIT))
        .when(~usage).then(pl.lit(NOT_MODEL_USAGE))
        .when(pl.col("x_model").is_null()).then(pl.lit(UNKNOWN_MODEL))
        .otherwise(pl.lit(None, pl.String))
        .alias("basis")
    )


def ai_lines(cost_lines: pl.LazyFrame, currency: str = "USD") -> pl.LazyFrame:
    return cost_lines.filter(pl.col("x_is_ai").fill_null(False) & in_currency(currency)).select(
        invoice_provider(),
        pl.col("x_model").alias("model"),
        *charge_window(),
        line_basis(),
        pl.col("BilledCost").alias("billed"),
        pl.col("EffectiveCost").fill_null(pl.col("BilledCost")).alias("effective"),
    )


def window_days() -> pl.Expr:
    return pl.date_ranges("start_day", "end_day", interval="1d", closed="left").alias("day")


def usage_weights(usage: pl.LazyFrame) -> pl.LazyFrame:
    return (
        usage.with_columns(pl.col("event_time").dt.date().alias("day"), total_tokens().alias("tokens"))
        .group_by("provider", "model", "day", "task", "team")
        .agg(priced_sum("cost_usd").alias("cost"), pl.col("tokens").sum())
    )


def _share(amount: str) -> pl.Expr:
    """This row's slice of the group's amount, from cumulative fractions: the slices telescope to the amount."""
    return pl.col(amount) * (pl.col("cum") / pl.col("total")) - pl.col(amount) * (pl.col("prev") / pl.col("total"))


def shared(groups: pl.LazyFrame, weights: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (group, day, task, team) that used the group's model; groups without weight drop out."""
    priced = pl.col("cost").is_not_null().any().over(GROUP)
    weight = pl.when(priced).then(pl.col("cost").fill_null(0.0)).otherwise(pl.col("tokens").cast(pl.Float64))
    return (
        groups.with_columns(window_days())
        .explode("day")
        .join(weights, on=["provider", "model", "day"], how="inner")
        .sort([*GROUP, "day", "task", "team"], nulls_last=True)
        .with_columns(
            weight.clip(lower_bound=0.0).fill_null(0.0).alias("weight"),
            pl.when(priced).then(pl.lit(USAGE_SHARE)).otherwise(pl.lit(TOKEN_SHARE)).alias("basis"),
        )
        .with_columns(pl.col("weight").cum_sum().over(GROUP).alias("cum"))
        .with_columns(
            pl.col("cum").max().over(GROUP).alias("total"),
            pl.col("cum").shift(1, fill_value=0.0).over(GROUP).alias("prev"),
        )
        .filter(pl.col("total") > 0)
        .select("day", "provider", "model", "task", "team", "basis", *GROUP[2:],
                _share("billed").alias("billed"), _share("effective").alias("effective"))
    )


def _unattributed(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.select(
        pl.col("start_day").alias("day"), "provider", "model", pl.lit(UNATTRIBUTED).alias("task"),
        pl.lit(None, pl.String).alias("team"), "basis", "billed", "effective",
    )


def logs_only(lines: pl.LazyFrame, weights: pl.LazyFrame) -> pl.LazyFrame:
    """The logs' priced cost on provider days that no AI line (credits aside) covers."""
    covered = (
        lines.filter(pl.col("basis").fill_null("") != CREDIT)
        .select("provider", window_days())
        .explode("day")
        .unique()
    )
    return weights.join(covered, on=["provider", "day"], how="anti").select(
        "day", "provider", "model", "task", "team", pl.lit(LOGS_ONLY).alias("basis"),
        pl.col("cost").alias("billed"), pl.col("cost").alias("effective"),
    )


def weights_from_daily(usage_daily: pl.LazyFrame) -> pl.LazyFrame:
    """`usage_weights` from the usage_daily mart, whose grain and sums are the same (no event re-read)."""
    return usage_daily.select(
        "provider", "model", "day", "task", "team", pl.col("cost_usd").alias("cost"), pl.col("total_tokens").alias("tokens")
    )


def allocated_cost(cost_lines: pl.LazyFrame, usage: pl.LazyFrame, currency: str = "USD") -> pl.LazyFrame:
    return allocated_cost_from(cost_lines, usage_weights(usage), currency)


def allocated_cost_from(cost_lines: pl.LazyFrame, weights: pl.LazyFrame, currency: str = "USD") -> pl.LazyFrame:
    """allocated_cost given the usage as weights per (provider, model, day, task, team): cost and tokens, with
    the lines' amounts and the weights' cost in `currency`."""
    lines = ai_lines(cost_lines, currency)
    groups = (
        lines.filter(pl.col("basis").is_null())
        .group_by(GROUP)
        .agg(pl.col("billed").sum(), pl.col("effective").sum())
    )
    allocated = shared(groups, weights)
    no_usage = groups.join(allocated.select(GROUP).unique(), on=GROUP, how="anti", nulls_equal=True).with_columns(
        pl.lit(NO_USAGE).alias("basis")
    )
    parts = [
        allocated.drop("start_day", "end_day"),
        _unattributed(no_usage),
        _unattributed(lines.filter(pl.col("basis").is_not_null())),
        logs_only(lines, weights),
    ]
    return (
        pl.concat(parts, how="vertical_relaxed")
        .group_by(KEYS)
        .agg(priced_sum("billed").alias("billed_cost_usd"), priced_sum("effective").alias("effective_cost_usd"))
        .sort(KEYS, nulls_last=True)
    )
