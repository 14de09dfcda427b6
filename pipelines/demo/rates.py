"""The per-token rates the demo invoices bill at, read from genai-prices once per model and day.

The invoice must agree with what the pipeline will price from the same price data, so the demo asks
genai-prices itself rather than keeping its own price list; only the unknown model and the negotiated discount
come from `catalog`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import polars as pl
from genai_prices import Usage, calc_price
from genai_prices.types import TieredPrices

from pipelines.demo.catalog import (
    MODELS,
    NEGOTIATED_DISCOUNT,
    NEGOTIATED_MODEL,
    UNPRICED_MODEL,
    UNPRICED_RATES,
)

TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")
_PRICE_FIELDS = {"input": "input_mtok", "output": "output_mtok", "cache_read": "cache_read_mtok",
                 "cache_write": "cache_write_mtok"}


def _base(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, TieredPrices):  # demo requests stay below every tier threshold
        value = value.base
    return float(value)


def model_info(key: str):
    """genai-prices' ModelInfo for a demo model, or None for the model it does not know."""
    m = MODELS[key]
    try:
        return calc_price(Usage(input_tokens=1, output_tokens=1), m.response_model,
                          provider_id=m.prices_provider).model
    except LookupError:
        return None


def list_rates(start: date, days: int) -> pl.DataFrame:
    """USD per million tokens by model key, day and token type: genai-prices' rate, else the catalog's."""
    rows: dict[str, list] = {"model_key": [], "day": [], "token_type": [], "list_usd_per_mtok": []}
    for key in sorted(MODELS):
        info = model_info(key)
        if info is None and key != UNPRICED_MODEL:
            raise LookupError(f"genai-prices has no price for demo model {key}")
        for d in range(days):
            day = start + timedelta(days=d)
            if info is None:
                rates = UNPRICED_RATES
            else:
                price = info.get_prices(datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc))
                rates = {t: _base(getattr(price, f, None)) for t, f in _PRICE_FIELDS.items()}
            for t in TOKEN_TYPES:
                rows["model_key"].append(key)
                rows["day"].append(day)
                rows["token_type"].append(t)
                rows["list_usd_per_mtok"].append(rates.get(t))
    return pl.DataFrame(rows, schema={"model_key": pl.String, "day": pl.Date, "token_type": pl.String,
                                      "list_usd_per_mtok": pl.Float64})


def negotiated_from(start: date, days: int) -> date:
    """The first of the month that holds the middle of the window: the day the discount starts."""
    mid = start + timedelta(days=days // 2)
    return mid.replace(day=1) if mid.replace(day=1) >= start else mid


def billed_rate(list_rate: pl.Expr, model_key: pl.Expr, day: pl.Expr, discount_from: date) -> pl.Expr:
    """The rate actually billed: the list rate, less the negotiated discount where it is in force."""
    discounted = (model_key == NEGOTIATED_MODEL) & (day >= discount_from)
    return pl.when(discounted).then(list_rate * (1 - NEGOTIATED_DISCOUNT)).otherwise(list_rate)
