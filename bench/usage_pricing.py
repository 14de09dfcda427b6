"""Benchmark: normalize + alias + price N synthetic usage events with Polars, against calc_price in a loop.

    .venv/bin/python bench/usage_pricing.py                  # 10,000,000 events, streaming engine
    .venv/bin/python bench/usage_pricing.py --events 1000000 --engine in-memory

The events are generated with Polars expressions (hashes of the row index, no numpy): a mix of providers and
models with raw ids that need normalization (dated snapshots, Bedrock ARNs and inference profiles, LiteLLM
`provider/` prefixes, Vertex resource paths, upper case), an Azure deployment name resolved by an alias, some
unknown models (unpriced), batch requests, flex/priority service tiers and long-context requests above 200k
input tokens. A provider discount is configured too, so every pricing rule runs.

Prints events per second for normalize + alias + price (one lazy query, collected once), the process's peak
memory (ru_maxrss: Polars allocates outside Python, so tracemalloc would not see it), and the speed of
`genai_prices.calc_price` called once per event in a Python loop over a sample, with the ratio of the two.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl  # noqa: E402

from pipelines import schemas  # noqa: E402
from pipelines.config import ModelAlias, ProviderDiscount  # noqa: E402
from pipelines.models import normalize_model, normalize_provider  # noqa: E402
from pipelines.pricing import apply_model_aliases, build_price_table, price_usage  # noqa: E402

# (logged provider, logged model id, weight): weights are shares of events in thousandths.
MIX: list[tuple[str, str, int]] = [
    ("openai", "gpt-4o-2024-08-06", 120),
    ("openai", "gpt-4o-mini", 110),
    ("openai", "openai/gpt-4.1", 40),
    ("openai", "GPT-5", 50),
    ("openai", "gpt-5-mini-2025-08-07", 40),
    ("openai", "o3", 20),
    ("openai", "text-embedding-3-small", 30),
    ("anthropic", "claude-sonnet-4-20250514", 90),
    ("anthropic", "claude-sonnet-4-5-20250929", 60),
    ("anthropic", "claude-3-5-haiku-20241022", 50),
    ("anthropic", "claude-opus-4-1-20250805", 15),
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", 60),
    ("aws.bedrock", "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", 30),
    ("aws.bedrock", "amazon.nova-lite-v1:0", 30),
    ("aws.bedrock", "meta.llama3-1-70b-instruct-v1:0", 15),
    ("aws.bedrock", "bedrock/converse/anthropic.claude-3-5-haiku-20241022-v1:0", 15),
    ("gcp.vertex_ai", "gemini-2.5-pro", 40),
    ("gcp.vertex_ai", "projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-flash", 50),
    ("azure.ai.openai", "prod-gpt4o", 40),  # a deployment name: priced through a model alias
    ("azure.ai.openai", "gpt-4.1-mini", 20),
    ("mistral_ai", "mistral-large-latest", 15),
    ("openai", "ft:gpt-4o-mini:acme:support:abc123", 10),  # no price: stays unpriced
    ("acme-llm", "acme-internal-7b", 20),  # unknown provider: stays unpriced
    ("openai", "gpt-unknown-2099", 5),  # unknown model: stays unpriced
]
ALIASES = [ModelAlias(alias="prod-gpt4o", model="gpt-4o", provider="azure")]
DISCOUNTS = [ProviderDiscount(provider="anthropic", percent=12, valid_from=date(2025, 7, 1))]
START = datetime(2025, 1, 1)
SPAN_SECONDS = 640 * 86_400  # to early October 2026


def _mix_lookup() -> pl.LazyFrame:
    """1000 slots, each a (provider, raw_model), in proportion to MIX's weights: a hash picks a slot."""
    total = sum(w for _, _, w in MIX)
    slots = [(p, m) for p, m, w in MIX for _ in range(round(w * 1000 / total))][:1000]
    slots += [slots[-1]] * (1000 - len(slots))
    return pl.LazyFrame(
        {"slot": list(range(1000)), "provider": [p for p, _ in slots], "raw_model": [m for _, m in slots]},
        schema={"slot": pl.Int64, "provider": pl.String, "raw_model": pl.String},
    )


def synthetic_usage(n: int, seed: int = 7) -> pl.DataFrame:
    """N usage events as a reader would emit them before normalization (provider and model raw)."""
    i = pl.col("i")

    def uniform(k: int, modulo: int) -> pl.Expr:
        return (i.hash(seed * 1_000 + k) % modulo).cast(pl.Int64)

    long_context = uniform(7, 1000) < 15  # 1.5% of requests send 200k-400k tokens
    tier_u = uniform(9, 1000)
    frame = (
        pl.LazyFrame({"i": pl.int_range(0, n, dtype=pl.UInt64, eager=True)})
        .with_columns(uniform(1, 1000).alias("slot"))
        .join(_mix_lookup(), on="slot", how="left")
        .select(
            (pl.lit(START) + pl.duration(seconds=uniform(2, SPAN_SECONDS))).alias("event_time"),
            "provider",
            "raw_model",
            i.cast(pl.String).alias("request_id"),
            pl.concat_str(pl.lit("task-"), uniform(3, 40).cast(pl.String)).alias("task"),
            pl.concat_str(pl.lit("team-"), uniform(4, 8).cast(pl.String)).alias("team"),
            pl.lit(1, dtype=pl.Int64).alias("request_count"),
            (uniform(5, 6_000) + pl.when(long_context).then(200_000 + uniform(8, 200_000)).otherwise(0))
            .alias("input_tokens"),
            pl.when(uniform(6, 3) == 0).then(uniform(10, 20_000)).otherwise(0).alias("cache_read_tokens"),
            pl.when(uniform(11, 10) == 0).then(uniform(12, 4_000)).otherwise(0).alias("cache_write_tokens"),
            uniform(13, 2_000).alias("output_tokens"),
            (uniform(14, 100) < 8).alias("is_batch"),
            pl.when(tier_u < 30).then(pl.lit("flex")).when(tier_u < 50).then(pl.lit("priority"))
            .when(tier_u < 500).then(pl.lit("default")).otherwise(None).alias("service_tier"),
            pl.lit("ok").alias("status"),
            pl.lit("bench").alias("x_source"),
        )
    )
    return schemas.conform(frame, schemas.USAGE_EVENTS).collect()


def normalized(usage: pl.LazyFrame) -> pl.LazyFrame:
    """What every usage reader does at its end: provider and model ids normalized to the price table's."""
    return usage.with_columns(
        normalize_provider(pl.col("provider")).alias("provider"),
        normalize_model(pl.col("provider"), pl.col("raw_model")).alias("model"),
    )


def priced(usage: pl.LazyFrame, prices: pl.LazyFrame) -> pl.LazyFrame:
    """What the pricer in steps.load_usage_events does: apply the config's aliases, then price."""
    return price_usage(apply_model_aliases(usage, ALIASES), prices, DISCOUNTS)


def calc_price_loop(sample: pl.DataFrame) -> tuple[float, int, dict[int, float]]:
    """Seconds to call calc_price once per event, events it priced, and its cost by row."""
    from genai_prices import Usage, calc_price

    providers = sample.select(normalize_provider(pl.col("provider")))["provider"].to_list()
    rows = sample.select("event_time", "raw_model", "input_tokens", "cache_read_tokens", "cache_write_tokens",
                         "output_tokens").rows()
    costs: dict[int, float] = {}
    started = time.perf_counter()
    for k, (provider, (when, model, inp, cache_read, cache_write, out)) in enumerate(zip(providers, rows)):
        try:
            result = calc_price(
                Usage(input_tokens=inp + cache_read + cache_write, cache_read_tokens=cache_read,
                      cache_write_tokens=cache_write, output_tokens=out),
                model, provider_id=provider, genai_request_timestamp=when.replace(tzinfo=UTC),
            )
        except LookupError:
            continue
        costs[k] = float(result.total_price)
    return time.perf_counter() - started, len(costs), costs


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # Linux: KiB


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--sample", type=int, default=5_000, help="events priced one at a time by calc_price")
    parser.add_argument("--engine", choices=["streaming", "in-memory", "auto"], default="streaming")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    prices = build_price_table([])
    t_table = time.perf_counter() - t0
    t0 = time.perf_counter()
    usage = synthetic_usage(args.events, args.seed)
    t_gen = time.perf_counter() - t0
    rss_after_gen = _rss_gb()
    print(f"price table: {prices.height:,} rows in {t_table:.2f} s; generated {usage.height:,} events in {t_gen:.1f} s "
          f"(peak RSS so far {rss_after_gen:.2f} GB)")

    t0 = time.perf_counter()
    events = normalized(usage.lazy()).collect(engine=args.engine)
    t_norm = time.perf_counter() - t0
    del usage
    t0 = time.perf_counter()
    out = priced(events.lazy(), prices.lazy()).collect(engine=args.engine)
    t_price = time.perf_counter() - t0
    rss = _rss_gb()
    n = out.height
    eps = n / (t_norm + t_price)
    unpriced = out["cost_usd"].null_count()
    print(f"normalize {t_norm:.2f} s + alias and price {t_price:.2f} s ({args.engine}): {eps:,.0f} events/s; "
          f"peak RSS {rss:.2f} GB; unpriced {unpriced:,} ({unpriced / n:.1%}); total ${out['cost_usd'].sum():,.2f}")
    mix = (
        out.group_by(pl.col("price_source").str.replace(r"^genai-prices [0-9.]+", "genai-prices"))
        .len().sort("len", descending=True).head(12)
    )
    for source, count in mix.iter_rows():
        print(f"  {count:>10,}  {source}")

    sample = out.head(args.sample)
    loop_s, loop_priced, loop_costs = calc_price_loop(sample)
    loop_eps = sample.height / loop_s
    print(f"calc_price loop: {sample.height:,} events in {loop_s:.2f} s, {loop_eps:,.0f} events/s "
          f"({loop_priced:,} priced); vectorized is {eps / loop_eps:,.0f}x faster")

    # The two agree where the loop sees the same request (standard tier, below any long-context cliff).
    check = sample.with_row_index("k").filter(
        pl.col("k").is_in(list(loop_costs)) & (pl.col("price_source") == prices["price_source"][0])
    )
    ref = pl.Series([loop_costs[k] for k in check["k"]], dtype=pl.Float64)
    worst = ((check["cost_usd"] - ref).abs() / ref.abs().clip(lower_bound=1e-12)).max() if check.height else None
    print(f"agreement on {check.height:,} standard-price sample events: max relative difference {worst}")


if __name__ == "__main__":
    main()
