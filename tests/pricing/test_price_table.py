"""build_price_table / price_table_version: genai-prices' rates by date, overrides laid on top."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from genai_prices.data_snapshot import get_snapshot
from genai_prices.types import ModelPrice, StartDateConstraint, TieredPrices, TimeOfDateConstraint

from pipelines import schemas
from pipelines.config import PriceOverride
from pipelines.pricing import build_price_table, price_table_version

SOURCE = "genai-prices 0.2.3"
RATES = ["input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok", "cache_write_usd_per_mtok"]


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return build_price_table([])


def _rows(prices: pl.DataFrame, provider: str, model: str, variant: str = "standard") -> list[dict]:
    return prices.filter(provider=provider, model=model, price_variant=variant).sort("valid_from").to_dicts()


def _in_force(prices: pl.DataFrame, provider: str, model: str, day: date, variant: str = "standard") -> list[dict]:
    return [
        r for r in _rows(prices, provider, model, variant)
        if r["valid_from"] <= day and (r["valid_to"] is None or day < r["valid_to"])
    ]


def _assert_no_overlaps(prices: pl.DataFrame) -> None:
    key = ["provider", "model", "price_variant"]
    ordered = prices.sort(*key, "valid_from").with_columns(
        next_from=pl.col("valid_from").shift(-1).over(key)
    )
    overlapping = ordered.filter(
        pl.col("next_from").is_not_null() & (pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("next_from")))
    )
    assert overlapping.height == 0, overlapping
    assert ordered.filter(pl.col("valid_to").is_not_null() & (pl.col("valid_to") <= pl.col("valid_from"))).height == 0


def test_schema_and_shape(table):
    assert table.schema == pl.Schema(schemas.PRICES)
    assert table.height > 2000
    assert set(table["price_source"].unique()) == {SOURCE}
    for provider in ["openai", "anthropic", "aws", "azure", "google"]:
        assert table.filter(provider=provider).height > 20, provider
    assert table.filter(pl.col("input_usd_per_mtok").is_null() & pl.col("output_usd_per_mtok").is_null()).height == 0
    _assert_no_overlaps(table)


@pytest.mark.parametrize(
    ("provider", "model", "rates"),
    [
        # Rates as published by the providers (USD per million tokens): input, output, cache read, cache write.
        ("anthropic", "claude-sonnet-4-0", [3.0, 15.0, 0.30, 3.75]),
        ("anthropic", "claude-3-haiku", [0.25, 1.25, 0.03, 0.30]),
        # OpenAI has no cache-write charge: genai-prices bills those tokens as input
        ("openai", "gpt-4o", [2.5, 10.0, 1.25, 2.5]),
        ("openai", "gpt-4o-mini", [0.15, 0.60, 0.075, 0.15]),
        # Bedrock regional vs global profile, and a model with no cache prices at all
        ("aws", "regional.anthropic.claude-sonnet-4-5-20250929-v1:0", [3.3, 16.5, 0.33, 4.125]),
        ("aws", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", [3.0, 15.0, 0.30, 3.75]),
        ("aws", "meta.llama3-1-70b-instruct-v1:0", [0.72, 0.72, 0.72, 0.72]),
        # Azure borrows OpenAI's price through the library's provider fallback
        ("azure", "gpt-4.1", [2.0, 8.0, 0.5, 2.0]),
    ],
)
def test_known_rates(table, provider, model, rates):
    rows = _in_force(table, provider, model, date(2025, 6, 1))
    assert len(rows) == 1
    assert [rows[0][c] for c in RATES] == pytest.approx(rates, rel=1e-12)


def _base(value):
    return float(value.base if isinstance(value, TieredPrices) else value) if value is not None else None


def test_dated_prices_follow_the_library(table):
    """Every model whose price changes on a date: the row in force on each side equals the library's price."""
    snapshot = get_snapshot()
    checked = 0
    for provider in snapshot.providers:
        for model in provider.models:
            if isinstance(model.prices, ModelPrice) or any(
                isinstance(c.constraint, TimeOfDateConstraint) for c in model.prices
            ):
                continue
            starts = [c.constraint.start_date for c in model.prices if isinstance(c.constraint, StartDateConstraint)]
            for day in {d + delta for d in starts for delta in (timedelta(days=-1), timedelta(0))}:
                expected = model.get_prices(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
                rows = _in_force(table, provider.id, model.id.lower(), day)
                if expected.input_mtok is None and expected.output_mtok is None:
                    assert rows == []
                    continue
                assert len(rows) == 1, (provider.id, model.id, day)
                row = rows[0]
                inp = _base(expected.input_mtok)
                assert row["input_usd_per_mtok"] == inp
                assert row["output_usd_per_mtok"] == _base(expected.output_mtok)
                cache_read = _base(expected.cache_read_mtok)
                assert row["cache_read_usd_per_mtok"] == (cache_read if cache_read is not None else inp)
                cache_write = _base(expected.cache_write_mtok)
                assert row["cache_write_usd_per_mtok"] == (cache_write if cache_write is not None else inp)
                checked += 1
    assert checked > 200


def test_override_from_a_date_splits_the_window(table):
    override = PriceOverride(
        provider="anthropic", model="claude-3-haiku-20240307", input_usd_per_mtok=0.20, output_usd_per_mtok=1.00,
        valid_from=date(2025, 3, 1),
    )
    prices = build_price_table([override])
    rows = _rows(prices, "anthropic", "claude-3-haiku")
    assert [(r["valid_from"], r["valid_to"], r["price_source"]) for r in rows] == [
        (date(1970, 1, 1), date(2025, 3, 1), SOURCE),
        (date(2025, 3, 1), None, "override"),
    ]
    # unset cache rates are inherited from the genai-prices row the override covers
    assert [rows[1][c] for c in RATES] == [0.20, 1.00, 0.03, 0.30]
    assert [rows[0][c] for c in RATES] == [0.25, 1.25, 0.03, 0.30]
    assert prices.height == table.height + 1
    _assert_no_overlaps(prices)


def test_bounded_override_leaves_both_sides_and_later_override_wins():
    overrides = [
        PriceOverride(provider="openai", model="gpt-4o", input_usd_per_mtok=2.0, output_usd_per_mtok=8.0,
                      valid_from=date(2025, 1, 1), valid_to=date(2025, 7, 1)),
        PriceOverride(provider="openai", model="gpt-4o", input_usd_per_mtok=1.0,
                      valid_from=date(2025, 4, 1), valid_to=date(2025, 5, 1)),
    ]
    rows = _rows(build_price_table(overrides), "openai", "gpt-4o")
    got = [(r["valid_from"], r["valid_to"], r["price_source"], r["input_usd_per_mtok"], r["output_usd_per_mtok"],
            r["cache_write_usd_per_mtok"]) for r in rows]
    assert got == [
        (date(1970, 1, 1), date(2025, 1, 1), SOURCE, 2.5, 10.0, 2.5),
        (date(2025, 1, 1), date(2025, 4, 1), "override", 2.0, 8.0, 2.0),
        (date(2025, 4, 1), date(2025, 5, 1), "override", 1.0, 8.0, 1.0),
        (date(2025, 5, 1), date(2025, 7, 1), "override", 2.0, 8.0, 2.0),
        (date(2025, 7, 1), None, SOURCE, 2.5, 10.0, 2.5),
    ]


def test_override_for_a_model_genai_prices_lacks():
    override = PriceOverride(provider="openai", model="ft:my-org:Custom-Model", input_usd_per_mtok=4.0,
                             output_usd_per_mtok=16.0, valid_from=date(2025, 2, 1), valid_to=date(2025, 3, 1))
    rows = _rows(build_price_table([override]), "openai", "ft:my-org:custom-model")
    assert [(r["valid_from"], r["valid_to"], r["price_source"]) for r in rows] == [
        (date(2025, 2, 1), date(2025, 3, 1), "override")
    ]
    assert [rows[0][c] for c in RATES] == [4.0, 16.0, 4.0, 4.0]


def test_override_keys_are_normalized_like_events():
    override = PriceOverride(provider="bedrock", model="us.anthropic.claude-sonnet-4-20250514-v1:0",
                             input_usd_per_mtok=2.7, output_usd_per_mtok=13.5)
    prices = build_price_table([override])
    rows = _rows(prices, "aws", "regional.anthropic.claude-sonnet-4-20250514-v1:0")
    # PriceOverride.valid_from defaults to 2000-01-01: genai-prices keeps the days before it
    assert [(r["valid_from"], r["price_source"], r["input_usd_per_mtok"]) for r in rows] == [
        (date(1970, 1, 1), SOURCE, 3.0),
        (date(2000, 1, 1), "override", 2.7),
    ]
    assert prices.filter(provider="bedrock").height == 0


def test_override_with_empty_window_is_refused():
    with pytest.raises(ValueError, match="valid_to"):
        build_price_table([PriceOverride(provider="openai", model="gpt-4o", input_usd_per_mtok=1.0,
                                         valid_from=date(2025, 2, 1), valid_to=date(2025, 2, 1))])


def test_version_is_content_hash(table):
    version = price_table_version(table)
    assert len(version) == 16 and int(version, 16) >= 0
    assert price_table_version(table.sample(fraction=1.0, shuffle=True, seed=7)) == version
    assert price_table_version(build_price_table([])) == version
    changed = table.with_columns(
        pl.when((pl.col("provider") == "openai") & (pl.col("model") == "gpt-4o"))
        .then(pl.col("output_usd_per_mtok") + 0.01)
        .otherwise(pl.col("output_usd_per_mtok"))
        .alias("output_usd_per_mtok")
    )
    assert price_table_version(changed) != version
    overridden = build_price_table([PriceOverride(provider="openai", model="gpt-4o", input_usd_per_mtok=2.5,
                                                  valid_from=date(2025, 1, 1))])
    assert price_table_version(overridden) != version  # same rate, but the source and windows changed


def test_tiers_and_variants_follow_the_library(table):
    """Every tiered price and every listed batch / service-tier price, at each window's first day, equals
    genai-prices' own (`get_prices` with the request context), tier by tier."""
    from pipelines.models import price_catalog

    def level_rates(price, threshold):
        out = []
        for key in ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok"):
            value = getattr(price, key, None)
            if isinstance(value, TieredPrices):
                value = next((t.price for t in reversed(value.tiers) if threshold is not None and threshold >= t.start),
                             value.base)
            out.append(float(value) if value is not None else None)
        out[2] = out[2] if out[2] is not None else out[0]
        out[3] = out[3] if out[3] is not None else out[0]
        return out

    by_key = {(c.provider, c.model): c.info for c in price_catalog()}
    checked_tiers = checked_variants = 0
    for row in table.to_dicts():
        info = by_key[(row["provider"], row["model"])]
        variant = row["price_variant"]
        context = None if variant == "standard" else (
            {"processing": "batch"} if variant == "batch" else {"service_tier": variant})
        at = datetime(row["valid_from"].year, row["valid_from"].month, row["valid_from"].day, 12, tzinfo=UTC)
        if not isinstance(info.prices, ModelPrice) and any(isinstance(c.constraint, TimeOfDateConstraint) for c in info.prices):
            continue
        price = info.get_prices(at, context)
        assert [row[c] for c in RATES] == level_rates(price, None), row
        for tier in (1, 2):
            threshold = row[f"tier{tier}_threshold_tokens"]
            if threshold is None:
                continue
            rates = [row[f"tier{tier}_{c}"] for c in RATES]
            assert rates == level_rates(price, threshold), (row, tier)
            checked_tiers += 1
        checked_variants += variant != "standard"
    assert checked_tiers > 100 and checked_variants > 150
    # the golden numbers, typed from genai-prices 0.2.3's data
    sonnet = _in_force(table, "anthropic", "claude-sonnet-4-5", date(2026, 11, 1), "batch")[0]
    assert [sonnet[c] for c in RATES] == [1.5, 7.5, 0.15, 1.875]
    assert sonnet["tier1_threshold_tokens"] == 200_000 and sonnet["tier1_input_usd_per_mtok"] == 3.0
    assert _in_force(table, "openai", "gpt-4o", date(2026, 10, 13), "batch") == []  # listed from 2026-10-14
    # Azure borrows OpenAI's models; calc_price ignores request context for borrowed models: no variant rows
    assert table.filter(provider="azure", price_variant="batch").height == 0
