"""Conversion into the reporting currency (pipelines/transforms/currency.py) and the rate table (pipelines/fx.py),
with rates worked out from the ECB's own published figures for 2026-10-30: 1 EUR = 1.1172 USD = 0.8338 GBP."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from pipelines.errors import SourceError
from pipelines.fx import ECB_SOURCE, FILE_SOURCE, ecb_last_day, rate_table, read_fx_file
from pipelines.transforms.currency import Fx, MissingRate
from tests.support.builders import cost_lines, usage_events

RATES = pl.LazyFrame({
    "currency": ["GBP", "GBP", "USD"],
    "day": [date(2026, 10, 2), date(2026, 10, 5), date(2026, 10, 2)],
    "rate": [1.2, 1.25, 0.9],  # EUR per unit
})
FX = Fx(RATES, "EUR")


def test_lines_take_the_latest_rate_published_on_or_before_their_day():
    lines = cost_lines([
        dict(ChargePeriodStart=datetime(2026, 10, 3, 12), BilledCost=10.0, EffectiveCost=8.0, ListCost=12.0,
             BillingCurrency="GBP"),                                                # Saturday: Friday's 1.2
        dict(ChargePeriodStart=datetime(2026, 10, 5), BilledCost=10.0, BillingCurrency="gbp "),  # Monday: 1.25
        dict(ChargePeriodStart=datetime(2026, 10, 9), BilledCost=7.0, BillingCurrency="EUR"),    # already EUR
        dict(ChargePeriodStart=datetime(1990, 1, 1), BilledCost=7.0, BillingCurrency="EUR"),     # any day: 1
    ])
    got = FX.lines_checked(lines)
    assert got["BilledCost"].to_list() == [12.0, 12.5, 7.0, 7.0]
    assert got["EffectiveCost"][0] == pytest.approx(9.6) and got["ListCost"][0] == pytest.approx(14.4)
    assert got["BillingCurrency"].unique().to_list() == ["EUR"]
    assert got["x_billing_currency"].to_list() == ["GBP", "gbp ", "EUR", "EUR"]
    assert got["x_fx_day"].to_list() == [date(2026, 10, 2), date(2026, 10, 5), date(2026, 10, 9), date(1990, 1, 1)]


@pytest.mark.parametrize("currency, day, message", [
    ("GBP", datetime(2026, 10, 1), "no exchange rate from GBP to EUR on 2026-10-01"),   # before its first rate
    ("CHF", datetime(2026, 10, 9), "no exchange rate from CHF to EUR on 2026-10-09"),   # never published
])
def test_a_line_without_a_rate_is_an_error_naming_currency_and_day(currency, day, message):
    lines = cost_lines([dict(ChargePeriodStart=datetime(2026, 10, 20), BilledCost=1.0, BillingCurrency="GBP"),
                        dict(ChargePeriodStart=day, BilledCost=1.0, BillingCurrency=currency)])
    with pytest.raises(MissingRate, match=message):
        FX.lines_checked(lines)
    with pytest.raises(MissingRate, match=message):
        FX.rate_of_lines(lines)


def test_logged_dollars_convert_at_the_event_day_and_stay_untouched_in_usd():
    events = usage_events([dict(event_time=datetime(2026, 10, 4, 23), provider="openai", task="t", cost_usd=2.0),
                           dict(event_time=datetime(2026, 10, 4, 23), provider="openai", task="t", cost_usd=None)])
    assert FX.usage_checked(events).collect()["cost_usd"].to_list() == [1.8, None]
    same = Fx(RATES, "USD").usage_checked(events).collect()
    assert same["cost_usd"].to_list() == [2.0, None]
    with pytest.raises(MissingRate, match="from USD to EUR on 2026-10-01"):
        FX.usage_checked(events.with_columns(pl.lit(datetime(2026, 10, 1)).alias("event_time")))


def test_the_ecb_table_crosses_into_the_reporting_currency():
    day = date(2026, 10, 30)
    assert ecb_last_day() == day
    eur = rate_table("EUR").filter(pl.col("day") == day)
    gbp = rate_table("GBP").filter(pl.col("day") == day)
    rate = lambda table, c: table.filter(pl.col("currency") == c)["rate"].item()  # noqa: E731
    assert rate(eur, "USD") == pytest.approx(1 / 1.1172) and rate(eur, "GBP") == pytest.approx(1 / 0.8338)
    assert rate(gbp, "USD") == pytest.approx(0.8338 / 1.1172) and rate(gbp, "EUR") == pytest.approx(0.8338)
    assert "GBP" not in gbp["currency"].to_list() and set(gbp["source"]) == {ECB_SOURCE}


def test_the_file_wins_on_its_days_and_adds_what_the_ecb_lacks(tmp_path):
    path = tmp_path / "fx.csv"
    path.write_text("Date,Currency,Rate\n2026-10-30,usd,0.5\n2026-11-02,USD,0.875\n2026-10-01,AED,0.25\n")
    table = rate_table("EUR", read_fx_file(str(path), "EUR"))
    usd = table.filter((pl.col("currency") == "USD") & (pl.col("day") >= date(2026, 10, 29)))
    assert usd["rate"].to_list() == [pytest.approx(1 / 1.113), 0.5, 0.875]
    assert usd["source"].to_list() == [ECB_SOURCE, FILE_SOURCE, FILE_SOURCE]
    assert table.filter(pl.col("currency") == "AED")["rate"].to_list() == [0.25]


@pytest.mark.parametrize("text, where", [
    ("date,currency\n2026-10-01,USD\n", "missing column(s) rate"),
    ("date,currency,rate\n2026-10-01,USD,0.9\n01/10/2026,GBP,1.1\n", "row 2, column 'date'"),
    ("date,currency,rate\n2026-10-01,DOLLAR,0.9\n", "row 1, column 'currency'"),
    ("date,currency,rate\n2026-10-01,EUR,1\n", "reporting currency EUR itself"),
    ("date,currency,rate\n2026-10-01,USD,-0.9\n", "row 1, column 'rate': rate '-0.9' is not a positive number"),
    ("date,currency,rate\n2026-10-01,USD,0.9\n2026-10-01,usd,0.91\n", "USD on 2026-10-01 is given twice"),
])
def test_a_bad_fx_file_is_refused_naming_the_row(tmp_path, text, where):
    path = tmp_path / "fx.csv"
    path.write_text(text)
    with pytest.raises(SourceError, match=where.replace("(", r"\(").replace(")", r"\)")):
        read_fx_file(str(path), "EUR")
