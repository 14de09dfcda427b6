"""Amounts in the reporting currency: each converted at its own day's rate, with a join (docs/finance.md).

The rate table (`fx_rates`, built once per run by pipelines/fx.py) holds the days rates were published: the
ECB's reference rates and the user's own file. An amount dated on a day without a published rate (a weekend, a
holiday, a day past the newest rate) takes the latest earlier published day. An amount in a currency with no
rate on or before its day is an error naming the currency and the day: never a silent 0 or 1.

The lookup is made once per distinct (currency, day) of a frame (a few thousand pairs even for millions of
events), then joined back: no per-row Python. An amount already in the reporting currency is taken as it is
(rate exactly 1), so with the default USD every dollar figure stays bit for bit what it was.

What is converted where (`Fx`):
- bill lines (`lines`): BilledCost, EffectiveCost, ListCost, ContractedCost at the rate of the UTC day the
  charge period starts; `BillingCurrency` becomes the reporting currency and the line's own currency moves to
  `x_billing_currency`;
- the logs' USD prices (`usd`): any USD column at the rate of its row's UTC day (events' `cost_usd` at the
  event's day; repriced what-if and waste figures at the day they are summed on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

MONEY_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
RATE, RATE_DAY = "x_fx_rate", "x_fx_day"
_CUR, _DAY = "__fx_currency", "__fx_day"
USD = "USD"


class MissingRate(ValueError):
    """An amount whose currency has no exchange rate on or before its day."""

    def __init__(self, currency: str | None, day: date | None, reporting: str):
        self.currency, self.day, self.reporting = currency, day, reporting
        if currency is None:
            what = f"an amount with no currency (BillingCurrency empty) on {day}"
        elif day is None:
            what = f"an amount in {currency} with no charge day"
        else:
            what = f"no exchange rate from {currency} to {reporting} on {day} or any earlier day"
        super().__init__(f"{what}: add {currency or 'it'} to the fx_rates file (finance.fx_rates; see "
                         "docs/finance.md, \"Currency\"); amounts are never converted at 0 or 1")


def rate_lookup(keys: pl.LazyFrame, rates: pl.LazyFrame) -> pl.LazyFrame:
    """(currency, day) pairs -> the rate in force: the latest published on or before the day (NULL: none)."""
    published = rates.select(
        pl.col("currency").alias(_CUR), pl.col("day").cast(pl.Date).alias(RATE_DAY), pl.col("rate").alias(RATE),
    ).sort(RATE_DAY)
    return keys.filter(pl.col(_DAY).is_not_null()).unique().sort(_DAY).join_asof(
        published, left_on=_DAY, right_on=RATE_DAY, by=_CUR, strategy="backward", check_sortedness=False,
    )


def with_rate(frame: pl.LazyFrame, rates: pl.LazyFrame, reporting: str, currency: pl.Expr, day: pl.Expr
              ) -> pl.LazyFrame:
    """`frame` plus `x_fx_rate` (reporting currency per unit of the row's currency) and `x_fx_day` (the day the
    rate was published); both NULL where no rate exists (see `require_rates`). An amount already in the
    reporting currency has rate 1 whatever its day."""
    keyed = frame.with_columns(currency.str.strip_chars().str.to_uppercase().alias(_CUR), day.cast(pl.Date).alias(_DAY))
    foreign = keyed.select(_CUR, _DAY).filter(pl.col(_CUR) != reporting)
    same = pl.col(_CUR) == reporting
    return (
        keyed.join(rate_lookup(foreign, rates), on=[_CUR, _DAY], how="left", nulls_equal=True, maintain_order="left")
        .with_columns(
            pl.when(same).then(pl.lit(1.0)).otherwise(pl.col(RATE)).alias(RATE),
            pl.when(same).then(pl.col(_DAY)).otherwise(pl.col(RATE_DAY)).alias(RATE_DAY),
        )
        .drop(_CUR, _DAY)
    )


def require_rates(frame: pl.DataFrame, reporting: str, currency: str, day: str) -> pl.DataFrame:
    """Raise MissingRate for the earliest row with no rate (its currency and day); else the frame as it is."""
    missing = frame.filter(pl.col(RATE).is_null())
    if missing.height:
        first = missing.sort(day, nulls_last=False).row(0, named=True)
        raise MissingRate(first[currency], first[day], reporting)
    return frame


def charge_day() -> pl.Expr:
    return pl.col("ChargePeriodStart").dt.date()


@dataclass(frozen=True)
class Fx:
    """The rate table and the reporting currency: everything a conversion needs."""

    rates: pl.LazyFrame   # currency, day, rate (reporting currency per unit), as in the fx_rates table
    currency: str = USD   # the reporting currency

    def lines(self, lines: pl.LazyFrame) -> pl.LazyFrame:
        """Bill lines with every money column in the reporting currency (and `x_fx_rate`, `x_fx_day`,
        `x_billing_currency` saying how)."""
        rated = with_rate(lines, self.rates, self.currency, pl.col("BillingCurrency"), charge_day())
        return rated.with_columns(
            *[(pl.col(c) * pl.col(RATE)).alias(c) for c in MONEY_COLUMNS],
            pl.col("BillingCurrency").alias("x_billing_currency"),
            pl.lit(self.currency).alias("BillingCurrency"),
        )

    def lines_checked(self, lines: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
        """`lines`, collected, with MissingRate raised for a line that has no rate."""
        out = self.lines(lines.lazy()).collect()
        return require_rates(out.with_columns(charge_day().alias("__day")), self.currency, "x_billing_currency",
                             "__day").drop("__day")

    def rate_of_lines(self, lines: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
        """Lines as they are, plus `x_fx_rate` (MissingRate where a line has none): for marts that keep both."""
        out = with_rate(lines.lazy(), self.rates, self.currency, pl.col("BillingCurrency"), charge_day()).collect()
        return require_rates(out.with_columns(charge_day().alias("__day")), self.currency, "BillingCurrency",
                             "__day").drop("__day")

    def usd(self, frame: pl.LazyFrame, day: pl.Expr, columns: list[str]) -> pl.LazyFrame:
        """USD `columns` in the reporting currency at the rate of each row's `day` (unchanged when it is USD)."""
        if self.currency == USD:
            return frame
        rated = with_rate(frame, self.rates, self.currency, pl.lit(USD), day)
        return rated.with_columns(*[(pl.col(c) * pl.col(RATE)).alias(c) for c in columns]).drop(RATE, RATE_DAY)

    def usage_checked(self, usage: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
        """Usage events with `cost_usd` in the reporting currency at the event's UTC day (MissingRate where a
        day has no USD rate)."""
        if self.currency == USD or "cost_usd" not in usage.lazy().collect_schema().names():
            return usage.lazy()
        day = pl.col("event_time").dt.date()
        rated = with_rate(usage.lazy(), self.rates, self.currency, pl.lit(USD), day).collect()
        rated = require_rates(rated.with_columns(pl.lit(USD).alias("__cur"), day.alias("__day")), self.currency,
                              "__cur", "__day")
        return rated.with_columns((pl.col("cost_usd") * pl.col(RATE)).alias("cost_usd")).drop(
            RATE, RATE_DAY, "__cur", "__day").lazy()


def identity() -> Fx:
    """No rates, USD: amounts stay as they are (what the transforms assume when given no Fx)."""
    return Fx(pl.LazyFrame(schema={"currency": pl.String, "day": pl.Date, "rate": pl.Float64}), USD)
