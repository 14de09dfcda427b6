"""model_whatif: what each task's real token mix would have cost on another model, next to how that model did.

The question an engineering lead asks is not "which model is cheapest per token" but "what would THIS task have
cost on model B, and does B do the job". So the current usage is not averaged into a per-token price: the
task's own tokens (uncached input, cache read, cache write, output), on the UTC day they were used and with the
batch flag and service tier they were sent with, are repriced at the alternative's price in force that day
through `price_usage`, the same join that priced the real events (variants, tiers, provider discounts).

To keep that join small the events are first summed per (task, provider, model, day, is_batch, service_tier,
prompt-size bucket). The bucket is the number of the price table's long-context thresholds a request's prompt
exceeds, so every request in a group falls on the same side of every threshold and the tier the alternative
charges is the one each request would have had (exact for per-request logs; aggregate rows are judged by their
mean per request, as `price_usage` does).

Observed performance comes from runs: a run (requests sharing a run_id) is credited to the model that served
most of its requests, so `alt_success_rate` and `alt_cost_per_success_usd` say how the alternative did when the
task really ran on it; null when it never did. A cheaper model that fails more is visible next to its savings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from pipelines.config import ProviderDiscount
from pipelines.models import normalize_model, normalize_provider
from pipelines.pricing.price import mean_per_request, price_usage
from pipelines.pricing.price_table import STANDARD, TIERS, tier_threshold
from pipelines.transforms.currency import Fx, identity
from pipelines.transforms.roi import run_key
from pipelines.transforms.usage import priced_sum

# Without an eligible_models list a task is compared with the models used anywhere in the logs: the most used
# ones only, so the mart stays a short list a person reads rather than every model of every provider.
DEFAULT_MAX_CANDIDATES = 8

TOKENS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"]
# The mix also carries the 1-hour part of the cache writes (a subset of cache_write_tokens), so the
# alternative prices them at its own 1-hour rate as the real events were.
MIX_TOKENS = [*TOKENS, "cache_write_1h_tokens"]
CURRENT = ["task", "provider", "model"]
ALT = ["alt_provider", "alt_model"]
# The mix's day and prompt-size bucket, as stored in whatif_mix_daily (warehouse/README.md).
_DAY = "day"
_BUCKET = "prompt_bucket"
_MIX_KEYS = [*CURRENT, _DAY, "is_batch", "service_tier", _BUCKET]

COLUMNS = [
    "task",
    "provider",
    "model",
    "alt_provider",
    "alt_model",
    "is_eligible_listed",
    "requests",
    "unpriced_requests",
    *TOKENS,
    "current_cost_usd",
    "alt_cost_usd",
    "alt_unpriced_requests",
    "savings_usd",
    "savings_pct",
    "alt_cache_read_as_input",
    "current_runs",
    "current_success_rate",
    "current_cost_per_success_usd",
    "alt_runs",
    "alt_success_rate",
    "alt_cost_per_success_usd",
]


def model_whatif(
    usage: pl.LazyFrame,
    tasks: pl.LazyFrame,
    prices: pl.LazyFrame,
    discounts: Sequence[ProviderDiscount] = (),
    max_candidates: int = DEFAULT_MAX_CANDIDATES,
) -> pl.LazyFrame:
    """One row per (task, current provider+model, alternative provider+model).

    `usage`: USAGE_EVENTS (priced); `tasks`: TASKS; `prices`: PRICES. `discounts` should be the ones the usage
    was priced with, so both sides of a saving carry the same negotiated terms.
    """
    mix, run_rows = whatif_partials(usage, thresholds(prices))
    return model_whatif_from(mix, run_rows, tasks, prices, discounts, max_candidates)


def whatif_partials(
    usage: pl.LazyFrame, price_thresholds: Sequence[int], days: tuple[date, date] | None = None
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The two per-day sums model_whatif needs: the token mix and the observed runs (`daily_mix`, `daily_runs`).

    Both are keyed by UTC day, so partials of disjoint days concatenate into the whole period's: that is how
    the pipeline keeps them, as the marts whatif_mix_daily and whatif_runs_daily rebuilt by day.
    """
    return daily_mix(usage, price_thresholds, days), daily_runs(usage, days)


def daily_mix(usage: pl.LazyFrame, price_thresholds: Sequence[int], days: tuple[date, date] | None = None
              ) -> pl.LazyFrame:
    """The token mix per day (whatif_mix_daily): only the events of `days` = [start, end) when given."""
    known = _with_optional(usage).filter(pl.col("model").is_not_null())
    if days is not None:
        day = pl.col("event_time").dt.date()
        known = known.filter((day >= days[0]) & (day < days[1]))
    return token_mix(known, price_thresholds)


def daily_runs(usage: pl.LazyFrame, days: tuple[date, date] | None = None) -> pl.LazyFrame:
    """The observed runs per start day (whatif_runs_daily). With `days` only the runs that started in them are
    kept; `usage` should then reach a day past either side, so a run crossing midnight is whole (and counted
    once, on its first day)."""
    run_rows = observed_runs(_with_optional(usage).filter(pl.col("model").is_not_null()))
    if days is not None:
        run_rows = run_rows.filter((pl.col("day") >= days[0]) & (pl.col("day") < days[1]))
    return run_rows


def model_whatif_from(
    mix: pl.LazyFrame,
    run_rows: pl.LazyFrame,
    tasks: pl.LazyFrame,
    prices: pl.LazyFrame,
    discounts: Sequence[ProviderDiscount] = (),
    max_candidates: int = DEFAULT_MAX_CANDIDATES,
    fx: Fx | None = None,
) -> pl.LazyFrame:
    """model_whatif from `whatif_partials` (of one period, or concatenated over disjoint days).

    With `fx` the partials' cost is in its reporting currency and the alternative's dollar prices are converted
    at the rate of the day they are repriced on (pipelines/transforms/currency.py)."""
    current = mix.group_by(CURRENT).agg(
        pl.col("requests").sum(),
        pl.col("unpriced_requests").sum(),
        *(pl.col(c).sum() for c in TOKENS),
        priced_sum("cost_usd").alias("current_cost_usd"),
    )
    used = mix.select("provider", "model", pl.col("requests").alias("request_count"))
    pairs = candidates(current.select(CURRENT), used, tasks, prices, max_candidates)
    alt = _reprice(mix.join(pairs.select(*CURRENT, *ALT), on=CURRENT, how="inner"), prices, discounts, fx or identity())
    cache_flag = alt_cache_read_as_input(mix.join(pairs.select(*CURRENT, *ALT), on=CURRENT), prices)
    perf = observed_rates(run_rows)
    return (
        current.join(pairs, on=CURRENT, how="inner")
        .join(alt, on=[*CURRENT, *ALT], how="left")
        .join(cache_flag, on=[*CURRENT, *ALT], how="left")
        .join(perf.rename(_prefixed("current")), on=CURRENT, how="left")
        .join(
            perf.rename({"provider": "alt_provider", "model": "alt_model", **_prefixed("alt")}),
            on=["task", *ALT],
            how="left",
        )
        .with_columns(
            pl.col("requests", "unpriced_requests", "alt_unpriced_requests", *TOKENS).cast(pl.Int64),
            pl.col("current_runs", "alt_runs").fill_null(0).cast(pl.Int64),
            pl.col("alt_cache_read_as_input").fill_null(False),
        )
        .with_columns(savings_usd())
        .with_columns(savings_pct())
        .select(COLUMNS)
        .sort(["task", "provider", "model", "savings_usd", "alt_provider", "alt_model"],
              descending=[False, False, False, True, False, False], nulls_last=True)
    )


def savings_usd() -> pl.Expr:
    """Current minus alternative; null unless both sides priced every request (unpriced is not $0)."""
    known = (pl.col("unpriced_requests") == 0) & pl.col("alt_cost_usd").is_not_null()
    return pl.when(known).then(pl.col("current_cost_usd") - pl.col("alt_cost_usd")).otherwise(None).alias("savings_usd")


def savings_pct() -> pl.Expr:
    """Saving as a share of the current cost (0.25 = 25% cheaper); null when the current cost is 0 or unknown."""
    return (
        pl.when(pl.col("current_cost_usd") > 0)
        .then(pl.col("savings_usd") / pl.col("current_cost_usd"))
        .otherwise(None)
        .alias("savings_pct")
    )


def prompt_tokens() -> pl.Expr:
    """A request's whole prompt, as genai-prices counts it for long-context tiers."""
    return pl.sum_horizontal(*(pl.col(c).fill_null(0) for c in TOKENS[:3]))


def tier_bucket(thresholds: Sequence[int]) -> pl.Expr:
    """How many of the table's tier thresholds the mean prompt per request exceeds (0 = below all)."""
    per_request = mean_per_request(prompt_tokens())
    return pl.sum_horizontal(
        pl.lit(0, pl.Int32), *((per_request > t).fill_null(False).cast(pl.Int32) for t in thresholds)
    )


def token_mix(usage: pl.LazyFrame, thresholds: Sequence[int]) -> pl.LazyFrame:
    """The tokens each (task, model) used per UTC day, batch flag, service tier and prompt-size bucket."""
    return (
        usage.with_columns(pl.col("event_time").dt.date().alias(_DAY), tier_bucket(thresholds).alias(_BUCKET))
        .group_by(_MIX_KEYS)
        .agg(
            pl.col("request_count").sum().alias("requests"),
            pl.col("request_count").filter(pl.col("cost_usd").is_null()).sum().alias("unpriced_requests"),
            *(pl.col(c).fill_null(0).sum() for c in MIX_TOKENS),
            priced_sum("cost_usd"),
        )
    )


def thresholds(prices: pl.LazyFrame) -> list[int]:
    """The distinct long-context thresholds of the price table: a handful of numbers, collected once."""
    names = prices.collect_schema().names()
    columns = [tier_threshold(t) for t in TIERS if tier_threshold(t) in names]
    if not columns:
        return []
    found = prices.select(pl.concat_list(columns).alias("t")).explode("t").drop_nulls().unique().collect()
    return sorted(found["t"].to_list())


def _reprice(mix: pl.LazyFrame, prices: pl.LazyFrame, discounts: Sequence[ProviderDiscount], fx: Fx) -> pl.LazyFrame:
    """The alternative's cost of each current row's mix; null when some of it has no alternative price."""
    as_events = mix.select(
        pl.col("task"),
        pl.col("provider").alias("__provider"),
        pl.col("model").alias("__model"),
        pl.col("alt_provider").alias("provider"),
        pl.col("alt_model").alias("model"),
        pl.col(_DAY).cast(pl.Datetime("us")).alias("event_time"),
        pl.col("requests").alias("request_count"),
        *MIX_TOKENS,
        "is_batch",
        "service_tier",
        pl.lit(None, pl.Float64).alias("cost_usd"),
        pl.lit(None, pl.String).alias("price_source"),
    )
    priced = fx.usd(price_usage(as_events, prices, discounts), pl.col("event_time").dt.date(), ["cost_usd"])
    return (
        priced.group_by("task", "__provider", "__model", "provider", "model")
        .agg(
            pl.col("cost_usd").sum().alias("alt_cost_usd"),
            pl.col("request_count").filter(pl.col("cost_usd").is_null()).sum().alias("alt_unpriced_requests"),
        )
        .with_columns(
            pl.when(pl.col("alt_unpriced_requests") == 0).then(pl.col("alt_cost_usd")).otherwise(None)
        )
        .rename({"provider": "alt_provider", "model": "alt_model", "__provider": "provider", "__model": "model"})
    )


def alt_cache_read_as_input(mix: pl.LazyFrame, prices: pl.LazyFrame) -> pl.LazyFrame:
    """True where the mix read from the cache on a day the alternative had no cache-read discount.

    The price table stores the input rate where a model has no cache-read rate (genai-prices bills such
    tokens as input), so "no discount" is a missing rate or one equal to the input rate.
    """
    keys = mix.filter(pl.col("cache_read_tokens") > 0).select("task", *CURRENT[1:], *ALT, _DAY).unique()
    standard = _standard_rows(prices).select(
        pl.col("provider").alias("alt_provider"),
        pl.col("model").alias("alt_model"),
        "valid_from",
        "valid_to",
        "input_usd_per_mtok",
        "cache_read_usd_per_mtok",
    )
    in_force = (pl.col("valid_from") <= pl.col(_DAY)) & (pl.col("valid_to").is_null() | (pl.col(_DAY) < pl.col("valid_to")))
    no_discount = pl.col("cache_read_usd_per_mtok").is_null() | (
        pl.col("cache_read_usd_per_mtok") >= pl.col("input_usd_per_mtok")
    )
    return (
        keys.join(standard, on=ALT, how="inner")
        .filter(in_force)
        .group_by(*CURRENT, *ALT)
        .agg(no_discount.any().alias("alt_cache_read_as_input"))
    )


def _standard_rows(prices: pl.LazyFrame) -> pl.LazyFrame:
    if "price_variant" in prices.collect_schema().names():
        return prices.filter(pl.col("price_variant").fill_null(STANDARD) == STANDARD)
    return prices


def candidates(
    current: pl.LazyFrame,
    usage: pl.LazyFrame,
    tasks: pl.LazyFrame,
    prices: pl.LazyFrame,
    max_candidates: int = DEFAULT_MAX_CANDIDATES,
) -> pl.LazyFrame:
    """(task, provider, model) x (alt_provider, alt_model, is_eligible_listed), the current model excluded.

    A task with a non-empty `eligible_models` is compared with exactly those models; any other task (including
    ones not in the catalog) with the `max_candidates` most used priced models of the logs.
    """
    listed = eligible_entries(tasks)
    listed_tasks = listed.select("task").unique()
    used = usage.select("provider").unique()
    offers = entry_offers(listed.select("entry", "entry_provider", "entry_model").unique(), prices, used)
    # Ambiguous bare ids: the current provider if it offers the model, else the only used provider that does.
    ranked = (
        current.join(listed, on="task", how="inner")
        .join(offers, on="entry", how="inner")
        .join(used.select(pl.col("provider").alias("alt_provider"), pl.lit(True).alias("__used")), on="alt_provider",
              how="left")
        .with_columns(
            pl.when(pl.col("entry_provider").is_not_null() | (pl.col("__n_offers") == 1)).then(0)
            .when(pl.col("alt_provider") == pl.col("provider")).then(1)
            .when(pl.col("__used").fill_null(False)).then(2)
            .otherwise(3)
            .alias("__rank")
        )
        .filter(pl.col("__rank") == pl.col("__rank").min().over(*CURRENT, "entry"))
        .filter((pl.col("__rank") < 3) & (pl.len().over(*CURRENT, "entry") == 1))
        .select(*CURRENT, *ALT, pl.lit(True).alias("is_eligible_listed"))
    )
    priced = _standard_rows(prices).select("provider", "model").unique()
    popular = (
        usage.join(priced, on=["provider", "model"], how="semi")
        .group_by("provider", "model")
        .agg(pl.col("request_count").sum().alias("__requests"))
        .sort(["__requests", "provider", "model"], descending=[True, False, False])
        .head(max_candidates)
        .select(pl.col("provider").alias("alt_provider"), pl.col("model").alias("alt_model"))
    )
    default = (
        current.join(listed_tasks, on="task", how="anti")
        .join(popular, how="cross")
        .with_columns(pl.lit(False).alias("is_eligible_listed"))
    )
    return (
        pl.concat([ranked, default])
        .filter(~((pl.col("alt_provider") == pl.col("provider")) & (pl.col("alt_model") == pl.col("model"))))
        .unique(subset=[*CURRENT, *ALT], keep="first", maintain_order=True)
    )


def eligible_entries(tasks: pl.LazyFrame) -> pl.LazyFrame:
    """(task, entry, entry_provider, entry_model) for every eligible_models entry of the catalog.

    `openai/gpt-4o-mini` names its provider (normalized like logged names: `bedrock/...` is aws); a bare id
    leaves `entry_provider` null for `entry_offers` to resolve.
    """
    entry = pl.col("entry").str.strip_chars().str.to_lowercase()
    head = entry.str.extract(r"^([^/]+)/", 1)
    return (
        tasks.select("task", pl.col("eligible_models").alias("entry"))
        .explode("entry")
        .filter(pl.col("entry").str.strip_chars().str.len_chars() > 0)
        .with_columns(entry.alias("entry"))
        .with_columns(
            normalize_provider(head).alias("entry_provider"),
            pl.when(head.is_not_null()).then(entry.str.replace(r"^[^/]+/", "")).otherwise(entry).alias("entry_model"),
        )
        .unique(subset=["task", "entry"], maintain_order=True)
    )


def entry_offers(entries: pl.LazyFrame, prices: pl.LazyFrame, used: pl.LazyFrame) -> pl.LazyFrame:
    """Every (alt_provider, alt_model) a catalog entry can mean, with how many there are (`__n_offers`).

    A prefixed entry means its provider's model. A bare id is looked up under the providers whose price rows
    hold it as written, and under the providers the logs use (normalized with each, so a dated snapshot finds
    its priced id). A prefix that is not a price-table provider is taken as part of the id (OpenRouter-style
    ids contain a slash).
    """
    table = _standard_rows(prices).select("provider", "model").unique()
    providers = table.select("provider").unique()
    prefixed = entries.join(providers, left_on="entry_provider", right_on="provider", how="semi")
    bare = entries.join(prefixed.select("entry"), on="entry", how="anti").with_columns(
        pl.col("entry").alias("entry_model"), pl.lit(None, pl.String).alias("entry_provider")
    )
    exact = bare.join(table, left_on="entry_model", right_on="model", how="inner").select("entry", "provider")
    tried = pl.concat(
        [
            prefixed.select("entry", pl.col("entry_provider").alias("provider"), "entry_model"),
            pl.concat([exact, bare.select("entry").join(used, how="cross")])
            .unique()
            .join(bare.select("entry", "entry_model"), on="entry"),
        ]
    )
    return (
        tried.with_columns(normalize_model(pl.col("provider"), pl.col("entry_model")).alias("model"))
        .join(table, on=["provider", "model"], how="semi")
        .select("entry", pl.col("provider").alias("alt_provider"), pl.col("model").alias("alt_model"))
        .unique()
        .with_columns(pl.len().over("entry").alias("__n_offers"))
    )


def observed(usage: pl.LazyFrame) -> pl.LazyFrame:
    """Per (task, provider, model): runs mainly served by that model, their success rate and cost per success.

    A run's model is the one that served most of its requests (ties: the one used first). Cost is the whole
    run's priced cost; cost per success is null when any request of those runs is unpriced or nothing succeeded.
    """
    return observed_rates(observed_runs(usage))


def observed_runs(usage: pl.LazyFrame) -> pl.LazyFrame:
    """Per (task, provider, model, day a run started): the runs that model mainly served, with their sums.

    Sums, not rates, so the rows of any set of days add up; `observed_rates` turns them into rates.
    """
    keyed = usage.with_columns(run_key())
    per_model = keyed.group_by("task", "run_key", "provider", "model").agg(
        pl.col("request_count").sum().alias("__n"),
        pl.col("event_time").min().alias("__first"),
        pl.col("request_count").filter(pl.col("cost_usd").is_null()).sum().alias("__unpriced"),
        pl.col("cost_usd").sum().alias("__cost"),
    )
    # The pair order as the tie-break wants it (provider, then model, nulls last), as a small integer.
    pairs = (
        per_model.select("provider", "model").unique()
        .sort(["provider", "model"], nulls_last=True)
        .with_row_index("__pair")
    )
    totals = (
        per_model.join(pairs, on=["provider", "model"], how="left", nulls_equal=True)
        .with_columns(_dominance().alias("__rank"))
        .group_by("task", "run_key")
        .agg(
            pl.col("provider", "model").get(pl.col("__rank").arg_min()),
            pl.col("__unpriced", "__cost").sum(),
            pl.col("__first").min().dt.date().alias("day"),
        )
    )
    outcomes = (
        keyed.filter(pl.col("outcome").is_not_null())
        .group_by("task", "run_key")
        .agg(pl.col("outcome").get(pl.col("event_time").arg_max()))
    )
    run_rows = totals.join(outcomes, on=["task", "run_key"], how="left", nulls_equal=True)
    return run_rows.group_by(*CURRENT, "day").agg(
        pl.len().cast(pl.Int64).alias("runs"),
        (pl.col("outcome") == "success").sum().cast(pl.Int64).alias("successes"),
        pl.col("__unpriced").sum().alias("unpriced_requests"),
        pl.col("__cost").sum().alias("cost_usd"),
    )


def _dominance() -> pl.Expr:
    """One exact integer per (run, model) row that orders the rows as the dominant-model rule does: most
    requests first, then the earliest first use, then the (provider, model) pair's place in `__pair`.

    The rule's pick is then an `arg_min` in one group-by per run. Sorting all (run, model) rows by those keys
    and keeping each run's first row gave the same pick but gathered every row's strings, and was most of a
    chunk's `whatif_runs_daily` build (bench/README.md). Parts: the requests as 2**46 - n (more sorts first)
    from bit 80; the first use in microseconds after the frame's earliest (52 bits: 142 years; none sorts last)
    from bit 28; the pair below (268 million pairs).
    """
    requests = (2**46 - pl.col("__n")).cast(pl.Int128) * 2**80
    since = (pl.col("__first") - pl.col("__first").min()).dt.total_microseconds().fill_null(2**52 - 1)
    return requests + since.cast(pl.Int128) * 2**28 + pl.col("__pair").cast(pl.Int128)


def observed_rates(run_rows: pl.LazyFrame) -> pl.LazyFrame:
    """`observed_runs` rows of any days -> per (task, provider, model) runs, success rate, cost per success."""
    return (
        run_rows.group_by(CURRENT)
        .agg(pl.col("runs", "successes", "unpriced_requests", "cost_usd").sum())
        .select(
            *CURRENT,
            pl.col("runs").cast(pl.Int64),
            (pl.col("successes") / pl.col("runs")).alias("success_rate"),
            pl.when((pl.col("successes") > 0) & (pl.col("unpriced_requests") == 0))
            .then(pl.col("cost_usd") / pl.col("successes"))
            .otherwise(None)
            .alias("cost_per_success_usd"),
        )
    )


def _prefixed(side: str) -> dict[str, str]:
    return {
        "runs": f"{side}_runs",
        "success_rate": f"{side}_success_rate",
        "cost_per_success_usd": f"{side}_cost_per_success_usd",
    }


def _with_optional(usage: pl.LazyFrame) -> pl.LazyFrame:
    """Hand-made or pre-0002 frames may lack the newer columns; they default to one per-request standard row
    (and, before 0030, no 1-hour cache writes)."""
    names = usage.collect_schema().names()
    defaults = {
        "request_count": pl.lit(1, pl.Int64),
        "is_batch": pl.lit(False),
        "service_tier": pl.lit(None, pl.String),
        "run_id": pl.lit(None, pl.String),
        "request_id": pl.lit(None, pl.String),
        "outcome": pl.lit(None, pl.String),
        "cache_write_1h_tokens": pl.lit(None, pl.Int64),
    }
    return usage.with_columns(
        *(expr.alias(name) for name, expr in defaults.items() if name not in names),
    ).with_columns(pl.col("request_count").fill_null(1), pl.col("is_batch").fill_null(False))
