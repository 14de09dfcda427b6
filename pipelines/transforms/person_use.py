"""What each identity used, day by day, from every source that knows people, and who that identity is.

Three families of use, kept apart because two of them describe the same work (docs/sources/seats_and_agents.md,
"How the ledger adds up"):
- `app`: requests of applications that name a user (OTel `user.id`, LiteLLM `user`, Bedrock identity, OpenAI
  usage by user), from usage_events. Counted for mapped people only: an application's end users are not staff.
- `agent`: coding-agent logs read from a machine (kinds in AGENT_KINDS), from usage_events: always counted, their
  machine user is the person (the people file may map it), since a solo founder has no people file.
- `report`: what a vendor's organization API reports per person (person_activity: Claude Code analytics, Cursor
  usage and spend; Copilot's last activity). Reports and agent logs count the same sessions: the ledger keeps the
  larger of the two, never their sum.

Identities meet the people mapping trimmed and lowercased (or as keyed hashes of that, pipelines/privacy.py); a
person can also be named in a subscription by their name. The mapping in force at a month's end holds for the
month (`since` moves a person to another team from that day).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pipelines.config import ProviderDiscount
from pipelines.pricing.price import price_usage
from pipelines.privacy import identity_key

APP, AGENT, REPORT = "app", "agent", "report"
# Coding-agent log kinds (their readers live beside the other sources) -> the vendor whose plan covers them.
AGENT_KINDS = {"claude_code_logs": "anthropic", "codex_logs": "openai"}
# Sources whose data says who was active: kind -> (vendor, label, watched). A watched source reports every seat
# holder of its vendor, so its silence means idleness; local agent logs only ever prove activity.
ACTIVITY_SOURCES = {
    "copilot_seats": ("github", "Copilot seat last activity", True),
    "claude_code_analytics": ("anthropic", "Claude Code analytics", True),
    "cursor_usage": ("cursor", "Cursor daily usage", True),
    "claude_code_logs": ("anthropic", "Claude Code logs (local)", False),
    "codex_logs": ("openai", "Codex logs (local)", False),
}
METRICS = ["sessions", "requests", "lines_added", "lines_removed", "commits", "pull_requests",
           "api_equivalent_usd", "unpriced_tokens", "usage_cost_usd", "vendor_billed_usd"]
_TOKENS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"]


def sources_frame(kinds: dict[str, str]) -> pl.LazyFrame:
    """The config's sources that know people: x_source, agent_vendor, evidence vendor, label, watched."""
    rows = [(name, AGENT_KINDS.get(kind), *ACTIVITY_SOURCES[kind]) for name, kind in kinds.items()
            if kind in ACTIVITY_SOURCES]
    schema = {"x_source": pl.String, "agent_vendor": pl.String, "evidence_vendor": pl.String, "label": pl.String,
              "watched": pl.Boolean}
    return pl.LazyFrame(rows, schema=schema, orient="row")


def mapping(people: pl.LazyFrame) -> pl.LazyFrame:
    """identity -> person, team from the people table, each person's name counting as one of their identities."""
    names = people.select(identity_key(pl.col("person")).alias("identity"), "person", "team", "valid_from")
    return (
        pl.concat([people.select("identity", "person", "team", "valid_from"), names])
        .unique(subset=["identity", "valid_from"], keep="first", maintain_order=True)
        .with_columns(pl.col("valid_from").fill_null(pl.date(1, 1, 1)))
    )


def with_person(frame: pl.LazyFrame, people: pl.LazyFrame, at: str) -> pl.LazyFrame:
    """`person`, `team`, `is_mapped` for each row's `identity` as mapped on day `at`; an identity nobody maps
    stands for itself (is_mapped false); a row without identity is the organization's (person NULL)."""
    found = (
        frame.with_row_index("_row").sort(at)
        .join_asof(mapping(people).sort("valid_from"), left_on=at, right_on="valid_from", by="identity",
                   strategy="backward", check_sortedness=False)  # sorted just above
        .sort("_row")
        .drop("_row", "valid_from")
    )
    return found.with_columns(
        pl.when(pl.col("identity").is_not_null()).then(pl.col("person").is_not_null()).alias("is_mapped"),
        pl.coalesce("person", "identity").alias("person"),
    )


def app_and_agent_use(usage: pl.LazyFrame, sources: pl.LazyFrame) -> pl.LazyFrame:
    """Daily use rows from usage_events sums per user, day, provider and source (warehouse/sql/person_usage_daily.sql)."""
    agent = pl.col("agent_vendor").is_not_null()
    return usage.join(sources.select("x_source", "agent_vendor"), on="x_source", how="left").select(
        identity_key(pl.col("user_id")).alias("identity"),
        "day",
        pl.coalesce("agent_vendor", "provider").alias("vendor"),
        pl.when(agent).then(pl.lit(AGENT)).otherwise(pl.lit(APP)).alias("family"),
        agent.alias("seat_use"),
        pl.col("sessions").cast(pl.Int64),
        pl.col("requests").cast(pl.Int64),
        pl.col("cost_usd").alias("api_equivalent_usd"),
        pl.col("unpriced_tokens").cast(pl.Int64),
        # API use is billed per token; an agent's use is billed so only when no seat covers it (person_monthly)
        pl.when(~agent).then(pl.col("cost_usd")).alias("usage_cost_usd"),
        pl.when(~agent & pl.col("cost_usd").is_not_null()).then(pl.lit("logs")).alias("usage_cost_basis"),
        (pl.col("requests") > 0).alias("active"),
    )


def _tokens_priced(tokens: pl.LazyFrame, prices: pl.LazyFrame, discounts: Sequence[ProviderDiscount]) -> pl.LazyFrame:
    """Report token rows at the price table's rates, as usage_events are priced (aggregates: base rates)."""
    usage_like = tokens.with_columns(
        pl.col("day").cast(pl.Datetime("us")).alias("event_time"), pl.lit("anthropic").alias("provider"),
        *[pl.col(c).fill_null(0) for c in _TOKENS],
        pl.lit(None, pl.Float64).alias("cost_usd"), pl.lit(None, pl.String).alias("price_source"),
    )
    priced = price_usage(usage_like, prices, discounts)
    total = pl.sum_horizontal(_TOKENS)
    return priced.with_columns(
        pl.col("cost_usd").alias("api_equivalent_usd"),
        pl.when(pl.col("cost_usd").is_null()).then(total).otherwise(0).cast(pl.Int64).alias("unpriced_tokens"),
    )


def report_use(activity: pl.LazyFrame, prices: pl.LazyFrame, discounts: Sequence[ProviderDiscount]) -> pl.LazyFrame:
    """Daily use rows from person_activity: activity counts, priced tokens, and the newest spend of each cycle."""
    per_token = pl.col("customer_type") == "api"
    base = [pl.col("identity"), "day", "vendor", pl.lit(REPORT).alias("family"),
            (~per_token).fill_null(True).alias("seat_use")]
    acts = activity.filter(pl.col("record") == "activity").select(
        *base, *[pl.col(c) for c in ["sessions", "requests", "lines_added", "lines_removed", "commits",
                                     "pull_requests"]],
        (pl.col("is_active").fill_null(False) | (pl.sum_horizontal("sessions", "requests", "lines_added") > 0))
        .alias("active"),
    )
    tokens = _tokens_priced(activity.filter(pl.col("record") == "tokens"), prices, discounts).select(
        *base, "api_equivalent_usd", "unpriced_tokens",
        pl.when(per_token).then(pl.col("estimated_cost_usd")).alias("usage_cost_usd"),
        pl.when(per_token & pl.col("estimated_cost_usd").is_not_null()).then(pl.lit("vendor_estimate"))
        .alias("usage_cost_basis"),
        pl.lit(False).alias("active"),
    )
    newest = pl.col("x_source_file") == pl.col("x_source_file").max().over(["x_source", "identity", "day"])
    spend = activity.filter((pl.col("record") == "spend") & newest).select(
        *base, pl.col("billed_usd").alias("usage_cost_usd"), pl.col("billed_usd").alias("vendor_billed_usd"),
        pl.when(pl.col("billed_usd").is_not_null()).then(pl.lit("vendor_billed")).alias("usage_cost_basis"),
        pl.lit(False).alias("active"),
    )
    return pl.concat([acts, tokens, spend], how="diagonal_relaxed")


def seat_activity(intervals: pl.LazyFrame) -> pl.LazyFrame:
    """A seat's vendor-reported last activity (Copilot's `last_activity_at`) as an active day of its holder."""
    return intervals.filter(pl.col("last_activity_at").is_not_null()).select(
        "identity", pl.col("last_activity_at").dt.date().alias("day"), "vendor", pl.lit(REPORT).alias("family"),
        pl.lit(True).alias("seat_use"), pl.lit(True).alias("active"),
    ).unique()


def family_sum(column: str, family: str) -> pl.Expr:
    values = pl.col(column).filter(pl.col("family") == family)
    return pl.when(values.is_not_null().any()).then(values.sum())


def combined(column: str) -> pl.Expr:
    """app + the larger of agent logs and the vendor's report (they count the same sessions); NULL when none has it."""
    parts = [family_sum(column, APP), pl.max_horizontal(family_sum(column, AGENT), family_sum(column, REPORT))]
    return pl.when(pl.any_horizontal(p.is_not_null() for p in parts)).then(pl.sum_horizontal(parts)).alias(column)
