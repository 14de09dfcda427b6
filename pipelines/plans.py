"""AI seat plans: each vendor's plans, their monthly list price per seat, and the plan above each one.

Two uses: the price of a seat an API lists without one (GitHub's seat API says `business`, not $19), and
`person_monthly.plan_fit`, which weighs what a person used (at API prices) against this plan's price and the
next plan's. A declarative table: the prices are the vendors' published list prices per seat and month, billed
monthly, in USD, as their pricing pages state them (`PRICE_SOURCES`, read 2025-2026). Annual billing, taxes and
negotiated prices differ: give the price you pay in the subscriptions file or the source's `monthly_price`
option and it wins (docs/sources/seats_and_agents.md, "Plans and prices").

Names are normalized the way people write them ("Claude Max 200", "ChatGPT Team", "Copilot Business"): vendor
and product words dropped, the rest lowercased and joined by `_`, then looked up among each plan's aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Plan:
    vendor: str
    plan: str
    monthly_usd: float | None  # None: no list price (enterprise plans are quoted)
    next_plan: str | None      # the plan a person who outgrows this one moves to
    aliases: tuple[str, ...] = ()


PRICE_SOURCES = {
    "anthropic": "https://claude.com/pricing (Pro, Max 5x, Max 20x; Team standard and premium seats, monthly billing)",
    "openai": "https://chatgpt.com/pricing (Plus, Pro; Business, formerly Team, monthly billing)",
    "github": "https://github.com/features/copilot/plans (Pro, Pro+; Business, Enterprise per seat)",
    "cursor": "https://cursor.com/pricing (Pro, Pro+, Ultra; Teams, formerly Business, per seat)",
}

PLANS: tuple[Plan, ...] = (
    # Anthropic: Claude plans (Claude Code included from Pro up)
    Plan("anthropic", "free", 0.0, "pro"),
    Plan("anthropic", "pro", 20.0, "max_5x"),
    Plan("anthropic", "max_5x", 100.0, "max_20x", ("max", "max_100", "max5x", "max_5")),
    Plan("anthropic", "max_20x", 200.0, None, ("max_200", "max20x", "max_20")),
    Plan("anthropic", "team", 30.0, "team_premium", ("team_standard", "teams")),
    Plan("anthropic", "team_premium", 150.0, None, ("premium",)),
    Plan("anthropic", "enterprise", None, None),
    # OpenAI: ChatGPT plans (Codex included)
    Plan("openai", "free", 0.0, "plus"),
    Plan("openai", "plus", 20.0, "pro"),
    Plan("openai", "pro", 200.0, None),
    Plan("openai", "business", 30.0, "enterprise", ("team", "teams")),
    Plan("openai", "enterprise", None, None, ("edu",)),
    # GitHub Copilot
    Plan("github", "free", 0.0, "pro"),
    Plan("github", "pro", 10.0, "pro_plus", ("individual",)),
    Plan("github", "pro_plus", 39.0, None, ("pro+", "proplus")),
    Plan("github", "business", 19.0, "enterprise"),
    Plan("github", "enterprise", 39.0, None),
    # Cursor
    Plan("cursor", "hobby", 0.0, "pro", ("free",)),
    Plan("cursor", "pro", 20.0, "pro_plus"),
    Plan("cursor", "pro_plus", 60.0, "ultra", ("pro+", "proplus")),
    Plan("cursor", "ultra", 200.0, None),
    Plan("cursor", "teams", 40.0, "enterprise", ("business", "team")),
    Plan("cursor", "enterprise", None, None),
)

# Vendor names as people and APIs write them -> the vendor id seats and person_monthly use.
VENDORS = {
    "anthropic": "anthropic", "claude": "anthropic", "claude_code": "anthropic", "claude_ai": "anthropic",
    "openai": "openai", "chatgpt": "openai", "codex": "openai",
    "github": "github", "copilot": "github", "github_copilot": "github",
    "cursor": "cursor", "anysphere": "cursor",
}
_PRODUCT_WORDS = r"\b(?:anthropic|claude|openai|chatgpt|github|copilot|cursor|plan|subscription|seats?)\b"


# Words in a bill's names -> the vendor whose seats a seat line is for (first match wins).
_VENDOR_WORDS = [(r"copilot|github", "github"), (r"chatgpt|openai|codex", "openai"),
                 (r"claude|anthropic", "anthropic"), (r"cursor|anysphere", "cursor")]


def vendor_in(text: pl.Expr) -> pl.Expr:
    """The vendor a bill line's names point at (`GitHub Copilot Business` -> github); NULL when none."""
    lowered = text.fill_null("").str.to_lowercase()
    out = pl.lit(None, pl.String)
    for pattern, vendor in reversed(_VENDOR_WORDS):
        out = pl.when(lowered.str.contains(pattern)).then(pl.lit(vendor)).otherwise(out)
    return out


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9+]+", "_", text.strip().lower()).strip("_")


def vendor_id(name: str) -> str:
    """`GitHub Copilot` -> github, `ChatGPT` -> openai; an unknown vendor is kept as its slug."""
    key = slug(name)
    return VENDORS.get(key, VENDORS.get(key.split("_")[0], key))


def _plans_by_name() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for p in PLANS:
        for name in (p.plan, *p.aliases):
            out[(p.vendor, name)] = p.plan
    return out


_NAMES = _plans_by_name()


def plan_id(vendor: str, name: str | None) -> str | None:
    """`Claude Max 200` -> max_20x; a plan the table does not know keeps its slug."""
    if name is None or not str(name).strip():
        return None
    key = slug(re.sub(_PRODUCT_WORDS, " ", str(name).lower())) or slug(str(name))
    return _NAMES.get((vendor, key), _NAMES.get((vendor, key.replace("_", "")), key))


def list_price(vendor: str, plan: str | None) -> float | None:
    return next((p.monthly_usd for p in PLANS if p.vendor == vendor and p.plan == plan), None)


def plans_frame() -> pl.LazyFrame:
    """The table as a frame: vendor, plan, plan_price_usd, next_plan, next_plan_price_usd."""
    price = {(p.vendor, p.plan): p.monthly_usd for p in PLANS}
    return pl.LazyFrame(
        {
            "vendor": [p.vendor for p in PLANS],
            "plan": [p.plan for p in PLANS],
            "plan_price_usd": [p.monthly_usd for p in PLANS],
            "next_plan": [p.next_plan for p in PLANS],
            "next_plan_price_usd": [price.get((p.vendor, p.next_plan)) if p.next_plan else None for p in PLANS],
        },
        schema={"vendor": pl.String, "plan": pl.String, "plan_price_usd": pl.Float64, "next_plan": pl.String,
                "next_plan_price_usd": pl.Float64},
    )
