"""Cursor's Admin API (`api.cursor.com`, HTTP basic auth with the key as user name): team members into `seats`,
daily usage and spend into person_activity.

- `cursor_members` (`GET /teams/members`): who holds a seat, a snapshot per UTC day (org_apis.snapshot_unit). The
  API gives neither plan nor price nor join date: the plan and price come from the source's options (default
  plan `teams`, its list price in pipelines/plans.py), and a seat starts on the first snapshot that lists it.
- `cursor_usage`: `POST /teams/daily-usage-data` one UTC day per unit (`startDate`/`endDate` in Unix
  milliseconds, both inclusive), and `POST /teams/spend` as a snapshot per day. Cursor keeps usage for a rolling
  window only, so days older than `window_days` are never requested again: asked later, an expired day would come
  back empty and replace what was loaded while it was there. Spend is this billing cycle's so far
  (`subscriptionCycleStart`): each snapshot replaces nothing older, and person_monthly keeps the newest snapshot
  of each cycle. `spendCents` includes what the plan includes; when `includedSpendCents` is given the row's
  `billed_usd` is the difference (what is billed beyond the seat), else `spendCents` itself (older responses
  report only usage-based spend).

Both reports page by number (`page`, `pageSize`; the answer says `totalPages` or `pagination.hasNextPage`).
Rate limits are tight (about 20 requests a minute): 429s are retried honouring Retry-After (pipelines/http_client.py).
"""

from __future__ import annotations

import base64
from datetime import date, timedelta

import polars as pl
from pydantic import Field

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.http_client import ApiClient
from pipelines.plans import list_price, plan_id
from pipelines.schemas import PERSON_ACTIVITY, SEATS
from pipelines.sources import api_days
from pipelines.sources.api_days import Day, admin_key, day_units
from pipelines.sources.org_apis import (
    DayOptions, SeatOptions, amount, api_or_files, client, frame, records, snapshot_unit, utc_time, whole,
)
from pipelines.sources.spec import SourceSpec

DEFAULT_BASE_URL = "https://api.cursor.com"
DEFAULT_KEY_ENV = "CURSOR_ADMIN_KEY"
PAGE_SIZE = 500
DEFAULT_PLAN = "teams"
REQUESTS = ["composerRequests", "chatRequests", "agentRequests", "cmdkUsages"]


class CursorUsageOptions(DayOptions):
    window_days: int = Field(default=30, ge=1, description="Cursor keeps usage this many days: older days are "
                             "never requested again (they would come back empty)")


def headers(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def pages_by_number(api: ApiClient, path: str, body: dict) -> list[dict]:
    """POST page 1, 2, ... while the answer says there are more (`totalPages` or `pagination.hasNextPage`)."""
    pages: list[dict] = []
    for number in range(1, api.max_pages + 1):
        page = api.post_json(path, {**body, "page": number, "pageSize": PAGE_SIZE})
        pages.append(page)
        total = page.get("totalPages")
        more = (page.get("pagination") or {}).get("hasNextPage")
        if not (more or (isinstance(total, int) and number < total)):
            return pages
    raise SourceError(api.url(path), f"more than max_pages={api.max_pages} pages; stopped")


# --- members -------------------------------------------------------------------------------------------------

def parse_members(pages: list[dict], day: date | None, source: SourceConfig, location: str) -> pl.DataFrame:
    if day is None:
        raise SourceError(location, "a saved members snapshot must name its UTC day in the file name (YYYY-MM-DD)")
    options = source.options
    plan = plan_id("cursor", options.plan or DEFAULT_PLAN)
    price = options.monthly_price if options.monthly_price is not None else list_price("cursor", plan)
    rows = []
    for page_no, row, member in records(pages, "teamMembers", location):
        if member.get("isRemoved"):
            continue
        if not member.get("email"):
            raise SourceError(f"{location} page {page_no}", "a member without email", row=row, column="email")
        rows.append({"vendor": "cursor", "plan": plan, "identity": member["email"], "seat_count": 1,
                     "monthly_price": price, "currency": options.currency,
                     "monthly_price_usd": price if options.currency == "USD" else None,
                     "price_source": "source_option" if options.monthly_price is not None else "plan_list_price",
                     "start_date": day, "snapshot_day": day})
    return frame(rows, SEATS, source, location)


def _member_units(source: SourceConfig):
    key = admin_key(source, DEFAULT_KEY_ENV)

    def load(day: Day) -> pl.DataFrame:
        with client(source, DEFAULT_BASE_URL, headers(key), key) as api:
            pages = [api.get_json("/teams/members")]
        return parse_members(pages, day.day, source, day.location)

    return [snapshot_unit(source, source.kind, load)]


# --- daily usage and spend -------------------------------------------------------------------------------------

def _daily(pages: list[dict], day: date | None, location: str) -> list[dict]:
    rows = []
    for page_no, row, used in records(pages, "data", location):
        where = f"{location} page {page_no}"
        moment = utc_time(used.get("date"), where, row, "date")
        if moment is None or (day is not None and moment.date() != day):
            raise SourceError(where, f"a record dated {moment.date() if moment else 'nothing'} in the usage of "
                              f"{day}", row=row, column="date")
        if not used.get("email"):
            continue  # a removed member's usage: Cursor no longer names them; nobody to give it to
        counts = {f: whole(used.get(f), where, row, f) for f in
                  [*REQUESTS, "acceptedLinesAdded", "acceptedLinesDeleted"]}
        rows.append({"day": moment.date(), "vendor": "cursor", "tool": "cursor", "record": "activity",
                     "identity": used["email"], "identity_kind": "email", "is_active": bool(used.get("isActive")),
                     "requests": sum(counts[f] or 0 for f in REQUESTS),
                     "lines_added": counts["acceptedLinesAdded"], "lines_removed": counts["acceptedLinesDeleted"]})
    return rows


def _spend(pages: list[dict], location: str) -> list[dict]:
    rows = []
    for page_no, row, member in records(pages, "teamMemberSpend", location):
        where = f"{location} page {page_no}"
        cycle = utc_time(pages[page_no - 1].get("subscriptionCycleStart"), where, row, "subscriptionCycleStart")
        if cycle is None:
            raise SourceError(where, "a spend page without subscriptionCycleStart")
        spend = amount(member.get("spendCents"), where, row, "spendCents") or 0.0
        included = amount(member.get("includedSpendCents"), where, row, "includedSpendCents")
        if not member.get("email"):
            raise SourceError(where, "a member without email", row=row, column="email")
        rows.append({"day": cycle.date(), "vendor": "cursor", "tool": "cursor", "record": "spend",
                     "identity": member["email"], "identity_kind": "email",
                     "requests": whole(member.get("fastPremiumRequests"), where, row, "fastPremiumRequests"),
                     "billed_usd": max(spend - (included or 0.0), 0.0) / 100})
    return rows


def parse_usage(pages: list[dict], day: date | None, source: SourceConfig, location: str) -> pl.DataFrame:
    """Daily usage pages (`data`) or spend pages (`teamMemberSpend`), told apart by their lists."""
    spend = any("teamMemberSpend" in p for p in pages)
    rows = _spend(pages, location) if spend else _daily(pages, day, location)
    return frame(rows, PERSON_ACTIVITY, source, location)


def _usage_units(source: SourceConfig, today: date | None = None):
    key = admin_key(source, DEFAULT_KEY_ENV)
    today = today or api_days.utc_today()  # through the module: tests set the day
    oldest = today - timedelta(days=source.options.window_days - 1)

    def load_day(day: Day) -> pl.DataFrame:
        body = {"startDate": int(day.start.timestamp() * 1000), "endDate": int(day.end.timestamp() * 1000) - 1}
        with client(source, DEFAULT_BASE_URL, headers(key), key) as api:
            pages = pages_by_number(api, "/teams/daily-usage-data", body)
        return parse_usage(pages, day.day, source, day.location)

    def load_spend(day: Day) -> pl.DataFrame:
        with client(source, DEFAULT_BASE_URL, headers(key), key) as api:
            pages = pages_by_number(api, "/teams/spend", {})
        return parse_usage(pages, None, source, day.location)

    days = []
    if source.options.start_date is not None:
        days = [u for u in day_units(source, load_day, today) if date.fromisoformat(u.partition) >= oldest]
    return [*days, snapshot_unit(source, f"{source.kind}:spend", load_spend, today)]


SPECS = [
    SourceSpec(kind="cursor_members", table="seats", options=SeatOptions, needs_path=False,
               plan=api_or_files(parse_members, _member_units), key_env=DEFAULT_KEY_ENV,
               doc="docs/sources/seats_and_agents.md",
               summary="Cursor team members (Admin API), a snapshot a day, at the plan and price the options name"),
    SourceSpec(kind="cursor_usage", table="person_activity", options=CursorUsageOptions, needs_path=False,
               plan=api_or_files(parse_usage, _usage_units), key_env=DEFAULT_KEY_ENV,
               doc="docs/sources/seats_and_agents.md",
               summary="Cursor daily usage per member (rolling window) and this billing cycle's spend beyond the seat"),
]
