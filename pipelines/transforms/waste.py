"""waste: AI spend that bought nothing, or more than it had to, per day, in one long table the dashboard filters.

Two kinds of figure share the table, told apart by `is_estimate`:
- measured spend (false): what failed requests, retries after a failure, and idle capacity really cost, summed
  from priced requests or billed lines;
- estimated savings (true): what a lever would have saved on work that was done (the batch API for work that
  could wait, prompt caching for input-heavy work), computed by repricing the same requests through
  `price_usage` with the lever applied, so variants, long-context tiers and provider discounts count as they
  did for the real price.

Measured categories do not overlap (a failed request is never also a retry). The estimates both look at the
same successful requests, so they overlap a little with each other and with `retries`: do not add estimates to
each other or to measured spend as if they were separate money.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pipelines.config import ProviderDiscount
from pipelines.pricing.price import price_usage
from pipelines.pricing.price_table import BATCH
from pipelines.pricing.variants import event_variant
from pipelines.sources.ai_lines import AI_COMPUTE, PROVISIONED
from pipelines.transforms.currency import Fx, identity
from pipelines.transforms.providers import invoice_provider
from pipelines.transforms.reconcile import in_currency
from pipelines.transforms.usage import priced_sum

FAILED = "failed_requests"
RETRIES = "retries"
BATCH_ELIGIBLE = "batch_eligible"
CACHING = "caching_opportunity"
IDLE_PROVISIONED = "idle_provisioned_throughput"
IDLE_COMPUTE = "idle_ai_compute"

# The caching estimate: a request whose prompt is at least INPUT_OUTPUT_RATIO times its output and at least
# MIN_CACHEABLE_PROMPT tokens (OpenAI and Anthropic cache prefixes from 1,024 tokens) that read less than
# CACHE_SHARE of its prompt from the cache is assumed able to read CACHE_SHARE of it.
CACHE_SHARE = 0.5
INPUT_OUTPUT_RATIO = 10.0
MIN_CACHEABLE_PROMPT = 1024

EXPLANATIONS = {
    FAILED: "Priced cost of requests that returned an error.",
    RETRIES: "Priced cost of re-attempts: the successful request right after a failed one in the same run, work "
    "paid for twice.",
    BATCH_ELIGIBLE: "Estimated saving had this work, of a task that is not latency sensitive, gone through the "
    "batch API (genai-prices' batch rate, else the provider's documented batch discount).",
    CACHING: f"Estimated saving had {CACHE_SHARE:.0%} of the prompt of these input-heavy requests been read from "
    "the prompt cache at the cache-read rate (cache-write premiums ignored).",
    IDLE_PROVISIONED: "Billed provisioned model throughput on a day with no logged requests to this provider.",
    IDLE_COMPUTE: "Billed accelerator compute (GPU/TPU instances, SageMaker) on a day with no logged requests to "
    "this provider; matching instances to workloads is coarse.",
}

KEYS = ["day", "category", "provider", "model", "task", "team"]
COLUMNS = [*KEYS, "requests", "affected_cost_usd", "cost_usd", "is_estimate", "explanation"]
_GROUP = ["day", "provider", "model", "task", "team"]


def waste(
    usage: pl.LazyFrame,
    cost_lines: pl.LazyFrame,
    tasks: pl.LazyFrame,
    prices: pl.LazyFrame,
    discounts: Sequence[ProviderDiscount] = (),
    cache_share: float = CACHE_SHARE,
    fx: Fx | None = None,
) -> pl.LazyFrame:
    """One row per (day, category, provider, model, task, team) with something to report.

    `usage`: USAGE_EVENTS; `cost_lines`: COST_LINES; `tasks`: TASKS; `prices`: PRICES, with the `discounts` the
    usage was priced with (the estimates reprice requests and must compare like with like). With `fx`, usage
    cost and lines are already in its reporting currency and repriced estimates are converted at their day's
    rate (pipelines/transforms/currency.py); without, everything is in dollars.
    """
    fx = fx or identity()
    usage = usage.with_columns(
        pl.col("event_time").dt.date().alias("day"), pl.col("request_count").fill_null(1).alias("request_count")
    )
    parts = [
        _measured(usage.filter(pl.col("status") == "error"), FAILED),
        _measured(retries(usage), RETRIES),
        _estimated(batch_eligible(usage, tasks), prices, discounts, BATCH_ELIGIBLE, _as_batch, fx),
        _estimated(cacheable(usage, cache_share), prices, discounts, CACHING, _with_cache(cache_share), fx),
        idle_capacity(cost_lines, usage, fx.currency),
    ]
    return (
        pl.concat([p.select(COLUMNS) for p in parts], how="vertical_relaxed")
        .with_columns(pl.col("requests").cast(pl.Int64))
        .sort(KEYS, nulls_last=True)
    )


def retries(usage: pl.LazyFrame) -> pl.LazyFrame:
    """Re-attempts: the successful request that directly follows a failed one in the same run.

    That is the work paid for twice (the failed attempt itself is in `failed_requests`). Counting every later
    request of the run would also count an agent's ordinary next steps. Order within a run is event_time,
    then request_id; requests without a run_id are runs of their own and never retries. Only runs with a
    failure are ordered, so no window runs over all events.
    """
    keys = ["task", "run_id"]
    failed_runs = usage.filter((pl.col("status") == "error") & pl.col("run_id").is_not_null()).select(keys).unique()
    return (
        usage.join(failed_runs, on=keys, how="semi")
        .sort([*keys, "event_time", "request_id"], nulls_last=True)
        .filter((pl.col("status") != "error") & (pl.col("status").shift(1).over(keys) == "error"))
    )


def _measured(rows: pl.LazyFrame, category: str) -> pl.LazyFrame:
    return (
        rows.group_by(_GROUP)
        .agg(pl.col("request_count").sum().alias("requests"), priced_sum("cost_usd"))
        .with_columns(
            pl.col("cost_usd").alias("affected_cost_usd"),
            pl.lit(category).alias("category"),
            pl.lit(False).alias("is_estimate"),
            pl.lit(EXPLANATIONS[category]).alias("explanation"),
        )
    )


def batch_eligible(usage: pl.LazyFrame, tasks: pl.LazyFrame) -> pl.LazyFrame:
    """Priced, successful, interactive requests of catalog tasks marked not latency sensitive."""
    # null (unknown) is not false. The catalog's few names are read here so each event is a membership test
    # (a join of every event on its task string took four times as long, bench/README.md).
    can_wait = tasks.filter(~pl.col("latency_sensitive")).select("task").collect().to_series()
    return usage.filter(
        pl.col("task").is_in(can_wait.implode())
        & (pl.col("status") != "error") & pl.col("cost_usd").is_not_null() & (event_variant() != BATCH)
    )


def _as_batch(usage: pl.LazyFrame) -> pl.LazyFrame:
    return usage.with_columns(pl.lit(True).alias("is_batch"), pl.lit(None, pl.String).alias("service_tier"))


def prompt_tokens() -> pl.Expr:
    return pl.sum_horizontal(pl.col("input_tokens", "cache_read_tokens", "cache_write_tokens").fill_null(0))


def cacheable(usage: pl.LazyFrame, cache_share: float = CACHE_SHARE) -> pl.LazyFrame:
    """Priced successful requests that are input-heavy and read less than `cache_share` of their prompt cached."""
    prompt = prompt_tokens()
    per_request = prompt / pl.col("request_count").clip(lower_bound=1)
    return usage.filter(
        (pl.col("status") != "error")
        & pl.col("cost_usd").is_not_null()
        & (per_request >= MIN_CACHEABLE_PROMPT)
        & (prompt >= INPUT_OUTPUT_RATIO * pl.col("output_tokens").fill_null(0))
        & (pl.col("cache_read_tokens").fill_null(0) < cache_share * prompt)
    )


def _with_cache(cache_share: float):
    def apply(usage: pl.LazyFrame) -> pl.LazyFrame:
        """Move uncached input to cache reads until `cache_share` of the prompt is read from the cache."""
        cached = pl.col("cache_read_tokens").fill_null(0)
        moved = pl.min_horizontal(
            pl.col("input_tokens").fill_null(0), (cache_share * prompt_tokens() - cached).floor().cast(pl.Int64)
        ).clip(lower_bound=0)
        return usage.with_columns(
            (pl.col("input_tokens").fill_null(0) - moved).alias("input_tokens"), (cached + moved).alias("cache_read_tokens")
        )

    return apply


def _estimated(rows: pl.LazyFrame, prices: pl.LazyFrame, discounts, category: str, lever, fx: Fx) -> pl.LazyFrame:
    """Saving = the requests priced as they ran - priced with the lever; only where that saves something.

    Both sides go through the same pricing, so a lever that changes nothing (no batch discount, no cache
    discount) saves exactly nothing rather than rounding noise against the stored cost. Per-request savings
    are rounded to 1e-10 USD (one token of the cheapest model saves more than that). Both prices are in
    dollars and converted at the request's day's rate, like the stored cost.
    """
    # Columns ride along through pricing (it replaces cost_usd only): the stored cost, then the base price.
    actual = rows.with_columns(pl.col("cost_usd").alias("__actual"))
    base = price_usage(actual, prices, discounts).with_columns(pl.col("cost_usd").alias("__base"))
    both = fx.usd(price_usage(lever(base), prices, discounts), pl.col("day"), ["__base", "cost_usd"])
    saving = (pl.col("__base") - pl.col("cost_usd")).round(10).clip(lower_bound=0)
    return (
        both.filter(pl.col("cost_usd").is_not_null() & pl.col("__base").is_not_null())
        .group_by(_GROUP)
        .agg(
            pl.col("request_count").filter(saving > 0).sum().alias("requests"),
            pl.col("__actual").filter(saving > 0).sum().alias("affected_cost_usd"),
            saving.sum().alias("cost_usd"),
        )
        .filter(pl.col("cost_usd") > 0)
        .with_columns(
            pl.lit(category).alias("category"),
            pl.lit(True).alias("is_estimate"),
            pl.lit(EXPLANATIONS[category]).alias("explanation"),
        )
    )


def idle_capacity(cost_lines: pl.LazyFrame, usage: pl.LazyFrame, currency: str = "USD") -> pl.LazyFrame:
    """Usage lines of accelerator compute or provisioned throughput on a day its provider logged no request.

    The day is the UTC date the charge period starts; cost is BilledCost (cash), in `currency` (the pipeline
    converts every line to it first; a line given here in another currency is left out).
    """
    traffic = usage.select("day", "provider").unique()
    category = (
        pl.when(pl.col("x_ai_category") == PROVISIONED).then(pl.lit(IDLE_PROVISIONED)).otherwise(pl.lit(IDLE_COMPUTE))
    )
    return (
        cost_lines.filter(
            pl.col("x_ai_category").is_in([AI_COMPUTE, PROVISIONED])
            & (pl.col("ChargeCategory") == "Usage")
            & in_currency(currency)
        )
        .with_columns(pl.col("ChargePeriodStart").dt.date().alias("day"), invoice_provider(), category.alias("category"))
        .join(traffic, on=["day", "provider"], how="anti", nulls_equal=True)
        .group_by("day", "category", "provider", pl.col("x_model").alias("model"))
        .agg(pl.col("BilledCost").sum().alias("cost_usd"))
        .with_columns(
            pl.lit(None, pl.String).alias("task"),
            pl.lit(None, pl.String).alias("team"),
            pl.lit(None, pl.Int64).alias("requests"),
            pl.col("cost_usd").alias("affected_cost_usd"),
            pl.lit(False).alias("is_estimate"),
            pl.col("category").replace_strict(EXPLANATIONS, return_dtype=pl.String).alias("explanation"),
        )
    )
