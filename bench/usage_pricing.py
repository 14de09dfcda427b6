"""Benchmark: normalize + alias + price N synthetic usage events with Polars, against calc_price in a loop.

    .venv/bin/python bench/usage_pricing.py                        # 10,000,000 events in 1,000,000-event chunks, engine auto
    .venv/bin/python bench/usage_pricing.py --events 1000000 --chunk 250000

The events are generated with Polars expressions (hashes of the row index, no numpy): a mix of providers and
models with raw ids that need normalization (dated snapshots, Bedrock ARNs and inference profiles, LiteLLM
`provider/` prefixes, Vertex resource paths, upper case), an Azure deployment name resolved by an alias, some
unknown models (unpriced), batch requests, flex/priority service tiers and long-context requests above 200k
input tokens. A provider discount is configured too, so every pricing rule runs.

Why chunks: the pipeline never holds all events at once. It reads one unit (a file, a day's partition, an API
page), normalizes it (one collect, as a reader ends), then aliases and prices it (one collect, as
`loads.usage_pricing`'s pricer does) and writes it. This bench does the same per `--chunk` events and keeps
only running totals, so peak memory is that of one chunk, whatever N is. Peak RSS is the whole process's
(`ru_maxrss`: Polars allocates outside Python, so tracemalloc would not see it).

The calc_price loop runs over a sample spread evenly over all N events (every (N / sample)-th event), so its
(model, tokens, date) rows vary as the real mix does. genai-prices caches each model lookup (the price
arithmetic is not cached), so the loop is timed twice: cold (lookup caches emptied first) and warm (the same
sample again, best of `--repeat`). The warm rate is what a loop over millions of events with a few dozen
distinct model ids would sustain, so the ratio the bench claims is vectorized / warm: the conservative one.
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


def uniform(k: int, modulo: int, seed: int = 7) -> pl.Expr:
    """A reproducible pseudo-random integer in [0, modulo) per row, from the hash of the row number `i`."""
    return (pl.col("i").hash(seed * 1_000 + k) % modulo).cast(pl.Int64)


def raw_events(
    n: int, seed: int = 7, offset: int = 0, start: datetime = START, span_seconds: int = SPAN_SECONDS
) -> pl.LazyFrame:
    """N events (row numbers offset..offset+N) with every USAGE_EVENTS attribute except run/outcome columns.

    Rows are independent draws (hashes of the global row number), so any chunk or every k-th row is a fair
    sample of the mix, and chunks of one N-event run are the same events however N is cut.
    """

    def u(k: int, modulo: int) -> pl.Expr:
        return uniform(k, modulo, seed)

    long_context = u(7, 1000) < 15  # 1.5% of requests send 200k-400k tokens
    tier_u = u(9, 1000)
    return (
        pl.LazyFrame({"i": pl.int_range(offset, offset + n, dtype=pl.UInt64, eager=True)})
        .with_columns(u(1, 1000).alias("slot"))
        .join(_mix_lookup(), on="slot", how="left", maintain_order="left")
        .with_columns(
            (pl.lit(start) + pl.duration(seconds=u(2, span_seconds))).alias("event_time"),
            pl.col("i").cast(pl.String).alias("request_id"),
            pl.concat_str(pl.lit("task-"), u(3, 40).cast(pl.String)).alias("task"),
            pl.concat_str(pl.lit("team-"), u(4, 8).cast(pl.String)).alias("team"),
            pl.lit(1, dtype=pl.Int64).alias("request_count"),
            (u(5, 6_000) + pl.when(long_context).then(200_000 + u(8, 200_000)).otherwise(0)).alias("input_tokens"),
            pl.when(u(6, 3) == 0).then(u(10, 20_000)).otherwise(0).alias("cache_read_tokens"),
            pl.when(u(11, 10) == 0).then(u(12, 4_000)).otherwise(0).alias("cache_write_tokens"),
            u(13, 2_000).alias("output_tokens"),
            (u(14, 100) < 8).alias("is_batch"),
            pl.when(tier_u < 30).then(pl.lit("flex")).when(tier_u < 50).then(pl.lit("priority"))
            .when(tier_u < 500).then(pl.lit("default")).otherwise(None).alias("service_tier"),
            pl.lit("ok").alias("status"),
            pl.lit("bench").alias("x_source"),
        )
    )


def synthetic_usage(n: int, seed: int = 7, offset: int = 0) -> pl.LazyFrame:
    """N usage events as a reader would emit them before normalization (provider and model raw)."""
    return schemas.conform(raw_events(n, seed, offset), schemas.USAGE_EVENTS)


def normalized(usage: pl.LazyFrame) -> pl.LazyFrame:
    """What every usage reader does at its end: provider and model ids normalized to the price table's."""
    return usage.with_columns(
        normalize_provider(pl.col("provider")).alias("provider"),
        normalize_model(pl.col("provider"), pl.col("raw_model")).alias("model"),
    )


def priced(usage: pl.LazyFrame, prices: pl.LazyFrame) -> pl.LazyFrame:
    """What the pricer of loads.usage_pricing does: apply the config's aliases, then price."""
    return price_usage(apply_model_aliases(usage, ALIASES), prices, DISCOUNTS)


def clear_genai_prices_caches() -> None:
    """Empty genai-prices' model and provider lookup caches (private fields: best effort) for a cold loop."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot() if hasattr(data_snapshot, "get_snapshot") else data_snapshot._bundled_snapshot()
    for name in ("_lookup_cache", "_provider_cache", "_provider_misses"):
        getattr(snapshot, name, {}).clear()


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


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # Linux: KiB


def _source_label() -> pl.Expr:
    return pl.col("price_source").str.replace(r"^genai-prices [0-9.]+", "genai-prices")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000, help="events per unit, as one file or day")
    parser.add_argument("--sample", type=int, default=5_000, help="events priced one at a time by calc_price")
    parser.add_argument("--repeat", type=int, default=3, help="warm passes of the calc_price loop (best counts)")
    parser.add_argument("--engine", choices=["streaming", "in-memory", "auto"], default="auto",
                        help="auto is what the pipeline's .collect() uses")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    prices = build_price_table([])
    lazy_prices = prices.lazy()
    print(f"price table: {prices.height:,} rows in {time.perf_counter() - t0:.2f} s; "
          f"{args.events:,} events in chunks of {args.chunk:,} ({args.engine} engine)")

    stride = max(1, args.events // args.sample)
    t_gen = t_norm = t_price = cost = 0.0
    n = unpriced = 0
    mixes: list[pl.DataFrame] = []
    samples: list[pl.DataFrame] = []
    for offset in range(0, args.events, args.chunk):
        size = min(args.chunk, args.events - offset)
        t0 = time.perf_counter()
        usage = synthetic_usage(size, args.seed, offset).collect()
        t1 = time.perf_counter()
        events = normalized(usage.lazy()).collect(engine=args.engine)
        del usage
        t2 = time.perf_counter()
        out = priced(events.lazy(), lazy_prices).collect(engine=args.engine)
        del events
        t3 = time.perf_counter()
        t_gen, t_norm, t_price = t_gen + t1 - t0, t_norm + t2 - t1, t_price + t3 - t2
        n += out.height
        unpriced += out["cost_usd"].null_count()
        cost += out["cost_usd"].sum()
        mixes.append(out.group_by(_source_label()).len())
        # Every stride-th event of the whole run by its row number (request_id), whatever order a join left.
        samples.append(out.filter(pl.col("request_id").cast(pl.Int64) % stride == 0))
        del out
    eps = n / (t_norm + t_price)
    rss = rss_gb()
    print(f"generate {t_gen:.1f} s (not counted); normalize {t_norm:.2f} s + alias and price {t_price:.2f} s: "
          f"{eps:,.0f} events/s; peak RSS {rss:.2f} GB; unpriced {unpriced:,} ({unpriced / n:.1%}); total ${cost:,.2f}")
    mix = pl.concat(mixes).group_by("price_source").agg(pl.col("len").sum()).sort("len", descending=True).head(12)
    for source, count in mix.iter_rows():
        print(f"  {count:>10,}  {source}")

    sample = pl.concat(samples).sort(pl.col("request_id").cast(pl.Int64)).head(args.sample)
    distinct = sample.select("provider", "raw_model").n_unique()
    clear_genai_prices_caches()
    cold_s, loop_priced, loop_costs = calc_price_loop(sample)
    warm_s = min(calc_price_loop(sample)[0] for _ in range(max(1, args.repeat)))
    cold_eps, warm_eps = sample.height / cold_s, sample.height / warm_s
    print(f"calc_price loop over {sample.height:,} events spread over all {n:,} ({distinct} distinct ids, "
          f"{loop_priced:,} priced): cold {cold_eps:,.0f} events/s, warm (best of {args.repeat}) {warm_eps:,.0f} events/s")
    print(f"vectorized is {eps / warm_eps:,.0f}x the warm loop (claimed) and {eps / cold_eps:,.0f}x the cold loop")

    # The two agree where the loop sees the same request (standard tier, below any long-context cliff).
    check = sample.with_row_index("k").filter(
        pl.col("k").is_in(list(loop_costs)) & (pl.col("price_source") == prices["price_source"][0])
    )
    ref = pl.Series([loop_costs[k] for k in check["k"]], dtype=pl.Float64)
    worst = ((check["cost_usd"] - ref).abs() / ref.abs().clip(lower_bound=1e-12)).max() if check.height else None
    print(f"agreement on {check.height:,} standard-price sample events: max relative difference {worst}")
    print(f"peak RSS of the whole process {rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
