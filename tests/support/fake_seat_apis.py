"""The seat and coding-tool routes of the fake provider API (tests/support/fake_provider_api.py).

Each answers in its vendor's documented shape from `api.data[path]` (a UTC day -> records, or `SNAPSHOT` ->
records for reports of the present), checks its vendor's auth, honours injected faults, and pages the way the
vendor does, `api.results_per_page` records a page:
- Claude Code analytics: `starting_at=YYYY-MM-DD`, records flat under `data`, `has_more` / `next_page` cursors;
- GitHub: seats under `seats` with `total_seats`, next pages in the `Link` header (`?page=N`); premium requests
  for `year`, `month`, `day` under `usageItems`, one page;
- Cursor: POST bodies with `page` (1-based) and `pageSize`; daily usage (`startDate`/`endDate` milliseconds,
  inclusive) under `data` with `pagination.hasNextPage`; spend under `teamMemberSpend` with `totalPages`.
"""

from __future__ import annotations

import base64
import math
from datetime import date, datetime, timedelta, timezone

from tests.support.fake_provider_api import CLAUDE_CODE, CURSOR_DAILY, CURSOR_MEMBERS, CURSOR_SPEND

SNAPSHOT = date.min  # the key of a report of the present (seats, members, spend)
ORG = "acme"
COPILOT_SEATS = f"/orgs/{ORG}/copilot/billing/seats"
COPILOT_PREMIUM = f"/organizations/{ORG}/settings/billing/premium_request/usage"
CYCLE_START_MS = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp() * 1000)


def _chunk(items: list, page: int, size: int) -> tuple[list, bool]:
    return items[(page - 1) * size: page * size], page * size < len(items)


def _github_auth(api, headers):
    if headers.get("authorization") != f"Bearer {api.github_key}":
        return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, {}
    return None


def _cursor_auth(api, headers):
    expected = "Basic " + base64.b64encode(f"{api.cursor_key}:".encode()).decode()
    if headers.get("authorization") != expected:
        return 401, {"error": "Unauthorized"}, {}
    return None


def _anthropic_auth(api, headers):
    if headers.get("x-api-key") != api.anthropic_key or headers.get("anthropic-version") != "2023-06-01":
        return 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}, {}
    return None


def _claude_code(api, params):
    day = date.fromisoformat(params["starting_at"][0])
    records = api.data.get(CLAUDE_CODE, {}).get(day, [])
    page = int(params.get("page", ["cc-1"])[0].removeprefix("cc-"))
    chunk, more = _chunk(records, page, api.results_per_page)
    return 200, {"data": chunk, "has_more": more, "next_page": f"cc-{page + 1}" if more else None}, {}


def _copilot_seats(api, params):
    seats = api.data.get(COPILOT_SEATS, {}).get(SNAPSHOT, [])
    page = int(params.get("page", ["1"])[0])
    chunk, more = _chunk(seats, page, api.results_per_page)
    total = api.settings.get("total_seats", len(seats))
    extra = {}
    if more:
        last = math.ceil(len(seats) / api.results_per_page)
        base = api.settings.get("link_base", api.url)  # a test may make the link point at another host
        link = f"{base}{COPILOT_SEATS}?per_page={params.get('per_page', ['100'])[0]}"
        extra["Link"] = f'<{link}&page={page + 1}>; rel="next", <{link}&page={last}>; rel="last"'
    return 200, {"total_seats": total, "seats": chunk}, extra


def _copilot_premium(api, params):
    day = date(int(params["year"][0]), int(params["month"][0]), int(params["day"][0]))
    items = api.data.get(COPILOT_PREMIUM, {}).get(day, [])
    return 200, {"timePeriod": {"year": day.year, "month": day.month, "day": day.day}, "organization": ORG,
                 "usageItems": items}, {}


def _cursor_daily(api, posted):
    start = datetime.fromtimestamp(int(posted["startDate"]) / 1000, timezone.utc)
    end = datetime.fromtimestamp(int(posted["endDate"]) / 1000, timezone.utc)
    records, day = [], start.date()
    while day <= end.date():
        records += api.data.get(CURSOR_DAILY, {}).get(day, [])
        day += timedelta(days=1)
    chunk, more = _chunk(records, int(posted.get("page", 1)), api.results_per_page)
    return 200, {"data": chunk, "period": {"startDate": posted["startDate"], "endDate": posted["endDate"]},
                 "pagination": {"hasNextPage": more}}, {}


def _cursor_spend(api, posted):
    members = api.data.get(CURSOR_SPEND, {}).get(SNAPSHOT, [])
    page = int(posted.get("page", 1))
    chunk, _ = _chunk(members, page, api.results_per_page)
    return 200, {"teamMemberSpend": chunk, "subscriptionCycleStart": api.settings.get("cycle_start", CYCLE_START_MS),
                 "totalMembers": len(members), "totalPages": max(1, math.ceil(len(members) / api.results_per_page))}, {}


def _cursor_members(api):
    return 200, {"teamMembers": api.data.get(CURSOR_MEMBERS, {}).get(SNAPSHOT, [])}, {}


def seat_api_response(api, path: str, params: dict, headers: dict, posted: dict | None):
    """The answer for a seat or coding-tool route, or None when `path` is not one."""
    routes = {
        CLAUDE_CODE: (_anthropic_auth, lambda: _claude_code(api, params)),
        COPILOT_SEATS: (_github_auth, lambda: _copilot_seats(api, params)),
        COPILOT_PREMIUM: (_github_auth, lambda: _copilot_premium(api, params)),
        CURSOR_MEMBERS: (_cursor_auth, lambda: _cursor_members(api)),
        CURSOR_DAILY: (_cursor_auth, lambda: _cursor_daily(api, posted or {})),
        CURSOR_SPEND: (_cursor_auth, lambda: _cursor_spend(api, posted or {})),
    }
    if path not in routes:
        return None
    auth, answer = routes[path]
    if path in (CURSOR_DAILY, CURSOR_SPEND) and (posted is None or posted.get("__invalid__")):
        return 405 if posted is None else 400, {"error": "POST a JSON body"}, {}
    return auth(api, headers) or api.fault_for(path, params) or answer()
