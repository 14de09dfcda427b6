"""reconciliation: what the invoices billed for model usage against what the request logs priced, with the gap
explained in named parts that add up exactly to the difference.

Grain: provider (genai-prices id), model (NULL: lines or requests with no model), month, day. Where the
invoice bills a provider's model usage per day (its charge periods are a day or less) the rows are daily;
where it bills per month, the logs are rolled up to the month too and `day` is NULL, so both sides always
cover the same period. Lines of a longer period inside a daily month (a monthly credit) sit on a `day` NULL
row of that month. A month's figures are the sum of its rows.

In scope: model-usage lines (`x_ai_category = 'model_usage'`) and Credit lines of AI services whose amounts
are in the mart's `currency`. The pipeline converts every line and every logged price to the reporting currency
first (pipelines/transforms/currency.py), so every line takes part; `non_usd_lines` counts the lines billed in
another currency (converted, or, given unconverted, left out). Accelerator compute, provisioned throughput,
other AI services and tax are not request usage and stay out.

The parts (all in `currency`, signed so that billed - logged = their sum):
- `credits_usd`: Credit lines (negative).
- `discount_usd`: BilledCost - ListCost of the usage lines: the invoice's rate below its own list price
  (negotiated discounts, commitments). A line with no ListCost counts at its BilledCost (no discount known).
- `unpriced_models_usd`: where no logged request of the row was priced, the whole usage cost it billed; where
  some were, the unpriced requests' tokens valued at the invoice's list rate.
- `missing_from_logs_usd`: invoice tokens beyond the logged tokens, per token type, valued at the invoice's own
  list rate for that type (ListCost / ConsumedQuantity); when the logs have no request at all, the row's
  whole list cost.
- `missing_from_invoice_usd`: minus the logged cost where the invoice bills no usage line for the row.
- `unexplained_usd`: the remainder (rate differences against the price table, tokens the logs have beyond the
  invoice, usage lines without quantities, timing across midnight UTC).
"""

from __future__ import annotations

import polars as pl

from pipelines.transforms.providers import invoice_provider
from pipelines.transforms.usage import priced_sum

TOKEN_TYPES = ["input", "cache_read", "cache_write", "output"]
KEYS = ["provider", "model", "month", "day"]
PARTS = [
    "credits_usd",
    "discount_usd",
    "unpriced_models_usd",
    "missing_from_logs_usd",
    "missing_from_invoice_usd",
    "unexplained_usd",
]
MODEL_USAGE = "model_usage"


def month_of(column: str) -> pl.Expr:
    return pl.col(column).dt.truncate("1mo").dt.date().alias("month")


def is_credit() -> pl.Expr:
    return pl.col("ChargeCategory").fill_null("").str.to_lowercase() == "credit"


def is_usage_line() -> pl.Expr:
    """Token (model) usage billed as such; a credit is never usage even when it names a model."""
    return (pl.col("x_ai_category") == MODEL_USAGE).fill_null(False) & ~is_credit()


def in_scope() -> pl.Expr:
    return is_usage_line() | (is_credit() & pl.col("x_is_ai").fill_null(False))


def in_currency(currency: str) -> pl.Expr:
    """Lines whose amounts are in `currency`: all of them once converted (the pipeline converts before)."""
    return pl.col("BillingCurrency").fill_null("").str.to_uppercase() == currency


def with_billing_currency(lines: pl.LazyFrame) -> pl.LazyFrame:
    """`x_billing_currency`, the currency a line was billed in: set by the conversion, else its own."""
    if "x_billing_currency" in lines.collect_schema().names():
        return lines
    return lines.with_columns(pl.col("BillingCurrency").alias("x_billing_currency"))


def billed_elsewhere(currency: str) -> pl.Expr:
    """Lines billed in a currency other than `currency` (converted to it, or left out when not)."""
    return pl.col("x_billing_currency").fill_null("").str.to_uppercase() != currency


def is_daily_line() -> pl.Expr:
    """A charge period of one day or less (or no end given) belongs to the day it starts on."""
    span = pl.col("ChargePeriodEnd") - pl.col("ChargePeriodStart")
    return (pl.col("ChargePeriodEnd").is_null() | (span <= pl.duration(days=1))).alias("is_daily_line")


def list_cost() -> pl.Expr:
    return pl.coalesce(pl.col("ListCost"), pl.col("BilledCost"))


def scoped_lines(cost_lines: pl.LazyFrame, currency: str = "USD") -> pl.LazyFrame:
    """In-scope AI lines with provider, model, month and a daily flag; `is_counted` marks those in `currency`
    (every line, once converted)."""
    return with_billing_currency(cost_lines).filter(in_scope()).with_columns(
        invoice_provider(),
        pl.col("x_model").alias("model"),
        month_of("ChargePeriodStart"),
        is_daily_line(),
        is_usage_line().alias("is_usage_line"),
        in_currency(currency).alias("is_counted"),
        billed_elsewhere(currency).alias("is_converted"),
    )


def daily_months(lines: pl.LazyFrame) -> pl.LazyFrame:
    """(provider, month) -> whether its usage in the mart's currency is billed per day. Months without usage
    lines count daily."""
    usage = pl.col("is_usage_line") & pl.col("is_counted")
    return lines.group_by("provider", "month").agg(
        ((usage & pl.col("is_daily_line")).any() | ~usage.any()).alias("month_is_daily")
    )


def _day(source_day: pl.Expr, daily: pl.Expr) -> pl.Expr:
    return pl.when(daily.fill_null(True)).then(source_day).otherwise(None).alias("day")


def _tokens_of(token_type: str, value: pl.Expr) -> pl.Expr:
    token_line = (
        pl.col("is_usage_line") & pl.col("is_counted") & (pl.col("x_token_type") == token_type).fill_null(False)
        & pl.col("ConsumedQuantity").is_not_null()
    )
    return value.filter(token_line).sum()


def invoice_side(lines: pl.LazyFrame, months: pl.LazyFrame) -> pl.LazyFrame:
    usd = pl.col("is_counted")
    usage = pl.col("is_usage_line") & usd
    return (
        lines.join(months, on=["provider", "month"], how="left")
        .with_columns(_day(pl.col("ChargePeriodStart").dt.date(), pl.col("month_is_daily") & pl.col("is_daily_line")))
        .group_by(KEYS)
        .agg(
            pl.col("BilledCost").filter(usd).sum().alias("billed_cost_usd"),
            pl.col("BilledCost").filter(usd & is_credit()).sum().alias("credits_usd"),
            pl.col("BilledCost").filter(usage).sum().alias("usage_billed"),
            list_cost().filter(usage).sum().alias("usage_list"),
            usd.sum().cast(pl.Int64).alias("invoice_lines"),
            usage.sum().cast(pl.Int64).alias("usage_lines"),
            pl.col("is_converted").sum().cast(pl.Int64).alias("non_usd_lines"),
            *[_tokens_of(t, pl.col("ConsumedQuantity")).alias(f"invoice_{t}_tokens") for t in TOKEN_TYPES],
            *[_tokens_of(t, list_cost()).alias(f"list_{t}") for t in TOKEN_TYPES],
        )
    )


def log_side(usage: pl.LazyFrame, months: pl.LazyFrame) -> pl.LazyFrame:
    unpriced = pl.col("cost_usd").is_null()
    return (
        usage.with_columns(month_of("event_time"))
        .join(months, on=["provider", "month"], how="left")
        .with_columns(_day(pl.col("event_time").dt.date(), pl.col("month_is_daily")))
        .group_by(KEYS)
        .agg(
            priced_sum("cost_usd").alias("logged_cost_usd"),
            pl.col("request_count").sum().cast(pl.Int64).alias("logged_requests"),
            pl.col("request_count").filter(unpriced).sum().cast(pl.Int64).alias("unpriced_requests"),
            *[pl.col(f"{t}_tokens").sum().cast(pl.Int64).alias(f"logged_{t}_tokens") for t in TOKEN_TYPES],
            *[pl.col(f"{t}_tokens").filter(unpriced).sum().alias(f"unpriced_{t}") for t in TOKEN_TYPES],
        )
    )


def _list_rate(t: str) -> pl.Expr:
    """The invoice's list price per token of one type for the row (0 when it billed none of that type)."""
    q = pl.col(f"invoice_{t}_tokens")
    return pl.when(q > 0).then(pl.col(f"list_{t}") / q).otherwise(0.0)


def _valued(tokens_of_type) -> pl.Expr:
    return pl.sum_horizontal([tokens_of_type(t) * _list_rate(t) for t in TOKEN_TYPES])


def missing_from_logs() -> pl.Expr:
    beyond = lambda t: (pl.col(f"invoice_{t}_tokens") - pl.col(f"logged_{t}_tokens")).clip(lower_bound=0)  # noqa: E731
    return _valued(beyond)


def unpriced_tokens_value() -> pl.Expr:
    """The invoice's list value of the unpriced requests' tokens (capped at what the invoice billed)."""
    return _valued(lambda t: pl.min_horizontal(pl.col(f"unpriced_{t}"), pl.col(f"invoice_{t}_tokens")))


def gap_parts() -> list[pl.Expr]:
    """The named parts; `unexplained_usd` is what is left, so the parts sum to difference_usd by construction."""
    has_invoice = pl.col("usage_lines") > 0
    has_logs = pl.col("logged_requests") > 0
    priced = pl.col("logged_cost_usd").is_not_null()
    all_unpriced = has_invoice & has_logs & ~priced
    return [
        pl.when(has_invoice & ~all_unpriced).then(pl.col("usage_billed") - pl.col("usage_list")).otherwise(0.0)
        .alias("discount_usd"),
        pl.when(all_unpriced).then(pl.col("usage_billed"))
        .when(has_invoice & has_logs).then(unpriced_tokens_value())
        .otherwise(0.0).alias("unpriced_models_usd"),
        pl.when(has_invoice & ~has_logs).then(pl.col("usage_list"))
        .when(has_invoice & priced).then(missing_from_logs())
        .otherwise(0.0).alias("missing_from_logs_usd"),
        pl.when(~has_invoice & priced).then(-pl.col("logged_cost_usd")).otherwise(0.0).alias("missing_from_invoice_usd"),
    ]


def combine_log_sides(parts: pl.LazyFrame) -> pl.LazyFrame:
    """`log_side` frames of disjoint sets of events (concatenated) -> the log side of all of them.

    Every column is a sum, so partial sums add up; a month billed monthly gets one row from many days' parts.
    """
    sums = [c for c in parts.collect_schema().names() if c not in KEYS and c != "logged_cost_usd"]
    return parts.group_by(KEYS).agg(priced_sum("logged_cost_usd"), pl.col(sums).sum())


def daily_log_sides(usage: pl.LazyFrame) -> pl.LazyFrame:
    """The log side of each UTC day on its own (reconciliation_logs_daily): `log_side` with no invoice months,
    so every day is its own row whatever the invoice bills by; `as_invoiced` applies the months later."""
    no_months = pl.LazyFrame(schema={"provider": pl.String, "month": pl.Date, "month_is_daily": pl.Boolean})
    return log_side(usage, no_months)


def as_invoiced(daily: pl.LazyFrame, months: pl.LazyFrame) -> pl.LazyFrame:
    """`daily_log_sides` rows keyed as the invoice bills each provider and month (by day, or the month whole)."""
    keyed = daily.join(months, on=["provider", "month"], how="left").with_columns(
        _day(pl.col("day"), pl.col("month_is_daily")))
    return combine_log_sides(keyed.drop("month_is_daily"))


def reconciliation(cost_lines: pl.LazyFrame, usage: pl.LazyFrame, currency: str = "USD") -> pl.LazyFrame:
    lines = scoped_lines(cost_lines, currency)
    months = daily_months(lines)
    return reconcile(lines, months, log_side(usage, months))


def reconcile(lines: pl.LazyFrame, months: pl.LazyFrame, logs: pl.LazyFrame) -> pl.LazyFrame:
    """The mart from `scoped_lines`, their `daily_months` and the usage's `log_side` (whole or combined)."""
    invoice = invoice_side(lines, months)
    zero_float = ["billed_cost_usd", "credits_usd", "usage_billed", "usage_list"] + [
        c for t in TOKEN_TYPES for c in (f"invoice_{t}_tokens", f"list_{t}", f"unpriced_{t}")
    ]
    zero_int = ["invoice_lines", "usage_lines", "non_usd_lines", "logged_requests", "unpriced_requests"] + [
        f"logged_{t}_tokens" for t in TOKEN_TYPES
    ]
    difference = pl.col("billed_cost_usd") - pl.col("logged_cost_usd").fill_null(0.0)
    return (
        invoice.join(logs, on=KEYS, how="full", coalesce=True, nulls_equal=True)
        .with_columns(
            *[pl.col(c).cast(pl.Float64).fill_null(0.0) for c in zero_float],
            *[pl.col(c).fill_null(0).cast(pl.Int64) for c in zero_int],
        )
        .with_columns(difference.alias("difference_usd"), *gap_parts())
        .with_columns(
            pl.when(pl.col("billed_cost_usd") != 0)
            .then(100.0 * pl.col("difference_usd") / pl.col("billed_cost_usd"))
            .alias("difference_pct"),
            (
                pl.col("difference_usd")
                - pl.sum_horizontal([pl.col(p) for p in PARTS if p != "unexplained_usd"])
            ).alias("unexplained_usd"),
        )
        .select(
            *KEYS,
            "billed_cost_usd",
            "logged_cost_usd",
            "difference_usd",
            "difference_pct",
            *PARTS,
            "invoice_lines",
            "non_usd_lines",
            "logged_requests",
            "unpriced_requests",
            *[f"invoice_{t}_tokens" for t in TOKEN_TYPES],
            *[f"logged_{t}_tokens" for t in TOKEN_TYPES],
        )
        .sort(KEYS, nulls_last=True)
    )
