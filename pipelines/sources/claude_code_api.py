"""Anthropic's Claude Code analytics report (`/v1/organizations/usage_report/claude_code`) into person_activity,
one UTC day per unit.

The report answers for one day (`starting_at=YYYY-MM-DD`) with one record per actor (a user's email, or an API
key's name) and, paged with `has_more`/`next_page` like the other Admin API reports: `core_metrics` (sessions,
lines of code added and removed, commits and pull requests made by Claude Code) and a `model_breakdown` (tokens
by model and an estimated cost). Each record becomes one `activity` row and one `tokens` row per model.

Traps handled here: the records sit flat under `data` (no buckets, unlike the usage and cost reports);
`estimated_cost.amount` is in cents of USD (like the cost report's amounts), so 150 is $1.50; `tokens.input`
is taken as uncached input, the Anthropic convention (cache reads and writes are their own counts);
`customer_type` says whether the person was billed per token (`api`) or used a Claude plan (`subscription`):
the estimate is then only what the use would have cost at API prices. The estimate is the vendor's; the marts
price the tokens from the price table themselves (person_monthly.api_equivalent_usd).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.models import normalize_model
from pipelines.schemas import PERSON_ACTIVITY
from pipelines.sources.anthropic_api import ANTHROPIC_API, API_VERSION, DEFAULT_BASE_URL, DEFAULT_KEY_ENV
from pipelines.sources.api_days import Day, admin_key, day_units, fetch_pages
from pipelines.sources.org_apis import (
    DayOptions, amount, api_or_files, client, frame, need, pick, records, utc_time, whole,
)
from pipelines.sources.spec import SourceSpec

PATH = "/v1/organizations/usage_report/claude_code"
PAGE_LIMIT = 1000  # the API's maximum records per page
CORE = {"sessions": "num_sessions", "lines_added": "lines_of_code.added", "lines_removed": "lines_of_code.removed",
        "commits": "commits_by_claude_code", "pull_requests": "pull_requests_by_claude_code"}
TOKENS = {"input_tokens": "input", "cache_read_tokens": "cache_read", "cache_write_tokens": "cache_creation",
          "output_tokens": "output"}


def _actor(record: dict, where: str, row: int) -> tuple[str, str]:
    actor = record.get("actor") or {}
    if actor.get("type") == "user_actor" and actor.get("email_address"):
        return actor["email_address"], "email"
    if actor.get("type") == "api_actor" and actor.get("api_key_name"):
        return actor["api_key_name"], "api_key"
    raise SourceError(where, "a record whose actor is neither a user (email_address) nor an API key (api_key_name)",
                      row=row, column="actor")


def _model_rows(record: dict, base: dict, where: str, row: int) -> list[dict]:
    models = record.get("model_breakdown") or []
    if not isinstance(models, list):
        raise SourceError(where, "model_breakdown is not a list", row=row, column="model_breakdown")
    out = []
    for entry in models:
        cost = pick(entry, "estimated_cost") or {}
        cents = amount(cost.get("amount"), where, row, "model_breakdown.estimated_cost.amount")
        usd = cents / 100 if cents is not None and str(cost.get("currency", "USD")).upper() == "USD" else None
        out.append({**base, "record": "tokens", "raw_model": entry.get("model"), "estimated_cost_usd": usd,
                    **{c: whole(pick(entry, f"tokens.{f}"), where, row, f"model_breakdown.tokens.{f}") or 0
                       for c, f in TOKENS.items()}})
    return out


def parse(pages: list[dict], day: date | None, source: SourceConfig, location: str) -> pl.DataFrame:
    rows: list[dict] = []
    for page_no, row, record in records(pages, "data", location):
        where = f"{location} page {page_no}"
        moment = utc_time(record.get("date"), where, row, "date")
        if moment is None:
            raise SourceError(where, "a record without a date", row=row, column="date")
        if day is not None and moment.date() != day:
            raise SourceError(where, f"a record dated {moment.date()} in the report of {day}", row=row, column="date")
        identity, kind = _actor(record, where, row)
        base = {"day": moment.date(), "vendor": "anthropic", "tool": "claude_code", "identity": identity,
                "identity_kind": kind, "customer_type": record.get("customer_type")}
        core = {c: whole(pick(record, f"core_metrics.{f}"), where, row, f"core_metrics.{f}") for c, f in CORE.items()}
        active = any((v or 0) > 0 for v in core.values())
        rows.append({**base, "record": "activity", "is_active": active, **core})
        rows += _model_rows(record, base, where, row)
    out = frame(rows, PERSON_ACTIVITY, source, location)
    return out.with_columns(normalize_model(pl.lit("anthropic"), pl.col("raw_model")).alias("model"))


def _api_units(source: SourceConfig):
    need(source, "start_date")
    key = admin_key(source, DEFAULT_KEY_ENV)

    def load(day: Day) -> pl.DataFrame:
        with client(source, DEFAULT_BASE_URL, ANTHROPIC_API.headers(key), key) as api:
            pages = fetch_pages(api, PATH, {"starting_at": day.day.isoformat(), "limit": PAGE_LIMIT})
        return parse(pages, day.day, source, day.location)

    return day_units(source, load)


SPEC = SourceSpec(
    kind="claude_code_analytics", table="person_activity", options=DayOptions, needs_path=False,
    plan=api_or_files(parse, _api_units), key_env=DEFAULT_KEY_ENV, doc="docs/sources/seats_and_agents.md",
    summary="Anthropic's Claude Code analytics report: per user and day, sessions, lines, commits, PRs, tokens and "
            f"estimated cost by model (admin key, anthropic-version {API_VERSION})",
)
