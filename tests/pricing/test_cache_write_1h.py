"""1-hour prompt-cache writes: their own rate, from genai-prices where it lists one, 2x input where it does not.

`cache_write_1h_tokens` is the part of `cache_write_tokens` written with a 1-hour TTL (a subset): the rest of the
writes take the 5-minute rate. Expected values come from genai_prices.calc_price with its own
`cache_write_1h_tokens` usage key, or are worked out by hand from the list rates named in the comments.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from genai_prices import Usage, calc_price
from genai_prices.types import ModelPrice

from pipelines import schemas
from pipelines.config import PriceOverride
from pipelines.models import normalize_model, normalize_provider, price_catalog
from pipelines.pricing import build_price_table, price_usage
from pipelines.pricing.price_table import tier_columns

WHEN = datetime(2026, 10, 1, 12)


@pytest.fixture(scope="module")
def prices() -> pl.DataFrame:
    return build_price_table([])


def _usage(rows: list[dict]) -> pl.LazyFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None).lazy().with_columns(
        normalize_provider(pl.col("provider")).alias("provider"),
        normalize_model(pl.col("provider"), pl.col("raw_model")).alias("model"),
    )
    return schemas.conform(frame, schemas.USAGE_EVENTS)


def _event(provider: str, model: str, inp: int, read: int, write: int, write_1h: int | None, out: int, **extra):
    return {"event_time": WHEN, "provider": provider, "raw_model": model, "input_tokens": inp,
            "cache_read_tokens": read, "cache_write_tokens": write, "cache_write_1h_tokens": write_1h,
            "output_tokens": out, **extra}


def _calc(provider: str, model: str, inp: int, read: int, write: int, write_1h: int, out: int) -> float:
    usage = Usage(input_tokens=inp + read + write, cache_read_tokens=read, cache_write_tokens=write,
                  cache_write_1h_tokens=write_1h, output_tokens=out)
    return float(calc_price(usage, model, provider_id=provider, genai_request_timestamp=WHEN.replace(tzinfo=UTC))
                 .total_price)


def _explicit_1h(info) -> bool:
    prices = [info.prices] if isinstance(info.prices, ModelPrice) else [c.prices for c in info.prices]
    return all(getattr(p, "cache_write_1h_mtok", None) is not None for p in prices)


def test_golden_sonnet_4_5(prices):
    # Claude Sonnet 4.5 list: input 3, cache read 0.30, 5-minute write 3.75 (1.25x), 1-hour write 6 (2x),
    # output 15 USD per million. 2,000 writes of which 1,500 for an hour.
    expected = (100 * 3.0 + 40_000 * 0.30 + 500 * 3.75 + 1_500 * 6.0 + 800 * 15.0) / 1e6  # = 0.035175
    assert expected == pytest.approx(0.035175, rel=1e-12)
    event = _event("anthropic", "claude-sonnet-4-5-20250929", 100, 40_000, 2_000, 1_500, 800)
    out = price_usage(_usage([event]), prices.lazy()).collect()
    assert out["cost_usd"].item() == pytest.approx(expected, rel=1e-12)
    assert out["cost_usd"].item() == pytest.approx(_calc("anthropic", "claude-sonnet-4-5", 100, 40_000, 2_000, 1_500,
                                                         800), rel=1e-12)


def test_every_anthropic_model_with_a_1h_rate_matches_calc_price(prices):
    """Each Anthropic model genai-prices lists with a 1-hour rate, below and above its long-context threshold."""
    rows, expected = [], []
    for entry in price_catalog():
        if entry.provider != "anthropic" or not _explicit_1h(entry.info):
            continue
        for i, (inp, read, write, write_1h, out) in enumerate([(300, 9_000, 4_000, 2_500, 700),
                                                               (5_000, 150_000, 60_000, 60_000, 2_000)]):
            rid = f"{entry.model}/{i}"
            try:
                want = _calc("anthropic", entry.model, inp, read, write, write_1h, out)
            except LookupError:
                continue
            rows.append(_event("anthropic", entry.model, inp, read, write, write_1h, out, request_id=rid))
            expected.append({"request_id": rid, "expected": want})
    assert len(rows) >= 30
    got = price_usage(_usage(rows), prices.lazy()).collect().join(pl.DataFrame(expected), on="request_id")
    bad = got.filter((pl.col("cost_usd") - pl.col("expected")).abs() > 1e-9 * pl.col("expected") + 1e-15)
    assert bad.height == 0, bad.select("model", "cost_usd", "expected")


def test_no_ttl_reported_prices_every_write_at_the_5_minute_rate(prices):
    with_null = _event("anthropic", "claude-sonnet-4-5-20250929", 100, 0, 2_000, None, 10)
    with_zero = {**with_null, "cache_write_1h_tokens": 0}
    out = price_usage(_usage([with_null, with_zero]), prices.lazy()).collect()["cost_usd"].to_list()
    expected = (100 * 3.0 + 2_000 * 3.75 + 10 * 15.0) / 1e6
    assert out == pytest.approx([expected, expected], rel=1e-12)


def test_library_without_a_1h_rate_takes_twice_the_input_rate(prices):
    # Bedrock's regional Claude Sonnet 4 lists input 3, write 3.75, output 15 and no 1-hour rate: Anthropic bills
    # a 1-hour write at 2x input there too, so 6.00 (calc_price would take the 5-minute 3.75).
    model = "regional.anthropic.claude-sonnet-4-20250514-v1:0"
    row = prices.filter(provider="aws", model=model, price_variant="standard").row(0, named=True)
    assert (row["input_usd_per_mtok"], row["cache_write_usd_per_mtok"], row["cache_write_1h_usd_per_mtok"]) == (
        3.0, 3.75, 6.0)
    out = price_usage(_usage([_event("aws", model, 0, 0, 1_000, 1_000, 0)]), prices.lazy()).collect()
    assert out["cost_usd"].item() == pytest.approx(1_000 * 6.0 / 1e6, rel=1e-12)


def test_every_row_and_tier_carries_a_1h_rate_where_it_has_an_input_rate(prices):
    for rates in (("input_usd_per_mtok", "cache_write_1h_usd_per_mtok"), tuple(tier_columns(1)[i] for i in (0, 4))):
        inp, h = rates
        missing = prices.filter(pl.col(inp).is_not_null() & pl.col(h).is_null())
        assert missing.height == 0, missing.select("provider", "model", inp, h)


def test_override_sets_or_derives_the_1h_rate():
    made_up = PriceOverride(provider="anthropic", model="claude-house-1", input_usd_per_mtok=4.0,
                            output_usd_per_mtok=20.0, cache_write_usd_per_mtok=5.0)
    explicit = PriceOverride(provider="anthropic", model="claude-house-2", input_usd_per_mtok=4.0,
                             output_usd_per_mtok=20.0, cache_write_1h_usd_per_mtok=7.5)
    table = build_price_table([made_up, explicit])
    got = dict(table.filter(pl.col("model").str.starts_with("claude-house")).select(
        "model", "cache_write_1h_usd_per_mtok").iter_rows())
    assert got == {"claude-house-1": 8.0, "claude-house-2": 7.5}  # 2 x 4.0 derived; 7.5 as given
    events = [_event("anthropic", "claude-house-1", 0, 0, 1_000, 400, 0), _event("anthropic", "claude-house-2", 0, 0,
                                                                                  1_000, 400, 0)]
    out = price_usage(_usage(events), table.lazy()).collect()["cost_usd"].to_list()
    # house-1: 600 five-minute writes at 5.0 + 400 one-hour at 8.0; house-2: 600 at the input rate 4.0 (no
    # write rate given) + 400 at 7.5
    assert out == pytest.approx([(600 * 5.0 + 400 * 8.0) / 1e6, (600 * 4.0 + 400 * 7.5) / 1e6], rel=1e-12)


def test_a_hand_made_table_without_the_column_takes_twice_the_input_rate():
    table = pl.DataFrame({"provider": ["anthropic"], "model": ["claude-x"], "valid_from": [datetime(2020, 1, 1).date()],
                          "valid_to": [None], "input_usd_per_mtok": [1.0], "output_usd_per_mtok": [5.0],
                          "cache_read_usd_per_mtok": [0.1], "cache_write_usd_per_mtok": [1.25],
                          "price_source": ["hand"]}, schema_overrides={"valid_to": pl.Date})
    out = price_usage(_usage([_event("anthropic", "claude-x", 0, 0, 1_000, 1_000, 0)]), table.lazy()).collect()
    assert out["cost_usd"].item() == pytest.approx(1_000 * 2.0 / 1e6, rel=1e-12)
