"""GitHub Copilot: the organization's seat assignments into `seats`, its premium-request usage into cost_lines.

Seats (`GET /orgs/{org}/copilot/billing/seats`, kind `copilot_seats`) are a snapshot of who holds a seat now:
one unit per UTC day the run happens (pipelines/sources/org_apis.py). Each seat: `assignee.login`, `plan_type`
(business / enterprise), `created_at`, `pending_cancellation_date` (the seat ends then: its last paid day is the
day before), `last_activity_at` (NULL until the person used Copilot with IDE telemetry on). Pages follow GitHub's
`Link: rel="next"` header; the seats listed must add up to `total_seats`, or the snapshot is refused (a page lost
in paging would make a paid seat look gone). The API gives no price: the source's `monthly_price` option, else
the plan's list price (pipelines/plans.py).

Premium requests (`GET /organizations/{org}/settings/billing/premium_request/usage?year&month&day`, kind
`copilot_premium_requests`) are billed per request beyond each seat's monthly allowance: one cost line per
(day, SKU, model), `ListCost` = `grossAmount` (every request at the per-request price), `BilledCost` and
`EffectiveCost` = `netAmount` (what is billed after the included allowance, `discountAmount`). These are lines of
the bill like any other (ProviderName GitHub, ServiceName GitHub Copilot, x_ai_category ai_service): they reach
AI spend and budgets through allocated_cost. The report is for the whole organization, not per person.

Both need a token with the `manage_billing:copilot` scope (or a fine-grained token with "GitHub Copilot Business"
or "Administration" read), sent as a Bearer token with `X-GitHub-Api-Version: 2022-11-28`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
from pydantic import Field

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.plans import list_price, plan_id
from pipelines.schemas import COST_LINES, SEATS, conform
from pipelines.sources.api_days import BUCKET_START, Biller, Day, admin_key, api_cost_lines, day_units, fetch_pages
from pipelines.sources.org_apis import (
    DayOptions, SeatOptions, amount, api_or_files, client, frame, need, pick, records, snapshot_unit, utc_time,
)
from pipelines.sources.spec import SourceSpec

DEFAULT_BASE_URL = "https://api.github.com"
DEFAULT_KEY_ENV = "GITHUB_BILLING_TOKEN"
API_VERSION = "2022-11-28"
PER_PAGE = 100  # the seats endpoint's maximum
GITHUB = Biller(provider_id="github", name="GitHub", service="GitHub Copilot")


class CopilotSeatOptions(SeatOptions):
    org: str | None = Field(default=None, description="the GitHub organization (required to call the API)")


class PremiumRequestOptions(DayOptions):
    org: str | None = Field(default=None, description="the GitHub organization (required to call the API)")


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION}


# --- seats ---------------------------------------------------------------------------------------------------

def parse_seats(pages: list[dict], day: date | None, source: SourceConfig, location: str) -> pl.DataFrame:
    if day is None:
        raise SourceError(location, "a saved seats snapshot must name its UTC day in the file name (YYYY-MM-DD)")
    options = source.options
    listed = records(pages, "seats", location)
    totals = {p.get("total_seats") for p in pages if p.get("total_seats") is not None}
    if len(totals) > 1 or (totals and totals.pop() != len(listed)):
        raise SourceError(location, f"the pages list {len(listed)} seats but total_seats says "
                          f"{pages[0].get('total_seats')}: a page is missing, refusing a partial snapshot")
    rows = []
    for page_no, row, seat in listed:
        where = f"{location} page {page_no}"
        login = pick(seat, "assignee.login")
        if not login:
            raise SourceError(where, "a seat without assignee.login", row=row, column="assignee.login")
        created = utc_time(seat.get("created_at"), where, row, "created_at")
        if created is None:
            raise SourceError(where, "a seat without created_at", row=row, column="created_at")
        ends = utc_time(seat.get("pending_cancellation_date"), where, row, "pending_cancellation_date")
        plan = plan_id("github", options.plan or seat.get("plan_type"))
        price = options.monthly_price if options.monthly_price is not None else list_price("github", plan)
        rows.append({
            "vendor": "github", "plan": plan, "identity": login, "seat_count": 1, "monthly_price": price,
            "currency": options.currency, "monthly_price_usd": price if options.currency == "USD" else None,
            "price_source": "source_option" if options.monthly_price is not None else (
                "plan_list_price" if price is not None else None),
            "start_date": created.date(),
            "end_date": max(created.date(), ends.date() - timedelta(days=1)) if ends else None,
            "last_activity_at": utc_time(seat.get("last_activity_at"), where, row, "last_activity_at"),
            "snapshot_day": day,
        })
    return frame(rows, SEATS, source, location)


def _seat_units(source: SourceConfig):
    org = need(source, "org")
    token = admin_key(source, DEFAULT_KEY_ENV)

    def load(day: Day) -> pl.DataFrame:
        with client(source, DEFAULT_BASE_URL, headers(token), token) as api:
            pages = list(api.paginate_links(f"/orgs/{org}/copilot/billing/seats", {"per_page": PER_PAGE}))
        return parse_seats(pages, day.day, source, day.location)

    return [snapshot_unit(source, source.kind, load)]


# --- premium requests ----------------------------------------------------------------------------------------

def _report_day(page: dict, day: date | None, location: str) -> date:
    period = page.get("timePeriod") or {}
    try:
        found = date(int(period["year"]), int(period["month"]), int(period["day"]))
    except (KeyError, TypeError, ValueError):
        found = None
    if found is None and day is None:
        raise SourceError(location, "a report without timePeriod year, month and day (and no day in the file name)")
    if found is not None and day is not None and found != day:
        raise SourceError(location, f"a report for {found} where {day} was asked for")
    return found or day


def parse_premium_requests(pages: list[dict], day: date | None, source: SourceConfig, location: str) -> pl.DataFrame:
    rows = []
    for page_no, row, item in records(pages, "usageItems", location):
        where = f"{location} page {page_no}"
        when = _report_day(pages[page_no - 1], day, where)
        money = {f: amount(item.get(f), where, row, f) for f in ("grossAmount", "discountAmount", "netAmount")}
        if money["netAmount"] is None:
            raise SourceError(where, "an item without netAmount", row=row, column="netAmount")
        rows.append({BUCKET_START: datetime(when.year, when.month, when.day), "sku": item.get("sku") or "",
                     "model": item.get("model"), "unit": item.get("unitType"),
                     "description": " / ".join(str(v) for v in (item.get("sku"), item.get("model")) if v),
                     "quantity": amount(item.get("grossQuantity", item.get("quantity")), where, row, "grossQuantity"),
                     "org": pages[page_no - 1].get("organization") or getattr(source.options, "org", None), **money})
    raw = pl.DataFrame(rows, schema={BUCKET_START: pl.Datetime("us"), "sku": pl.String, "model": pl.String,
                                     "unit": pl.String, "description": pl.String, "quantity": pl.Float64,
                                     "org": pl.String, "grossAmount": pl.Float64, "discountAmount": pl.Float64,
                                     "netAmount": pl.Float64})
    day_of = Day(day or date(1970, 1, 1), location)
    lines = api_cost_lines(
        raw, day_of, source, GITHUB, line_id_keys=["sku", "model"], sub_account="org", description="description",
        model=pl.lit(None, pl.String), token_type=pl.lit(None, pl.String), cost=pl.col("netAmount"),
        currency=pl.lit("USD"),
    )
    # The model names are Copilot's labels ("Claude Sonnet 4"), not API ids: kept in SkuMeter, not x_model.
    extra = raw.select(pl.col("sku").alias("SkuId"), pl.col("model").alias("SkuMeter"),
                       pl.col("grossAmount").alias("ListCost"),
                       pl.col("quantity").alias("ConsumedQuantity"), pl.col("unit").alias("ConsumedUnit"))
    return conform(lines.drop(extra.columns).hstack(extra), COST_LINES)


def _premium_units(source: SourceConfig):
    org = need(source, "org")
    need(source, "start_date")
    token = admin_key(source, DEFAULT_KEY_ENV)

    def load(day: Day) -> pl.DataFrame:
        params = {"year": day.day.year, "month": day.day.month, "day": day.day.day}
        with client(source, DEFAULT_BASE_URL, headers(token), token) as api:
            pages = fetch_pages(api, f"/organizations/{org}/settings/billing/premium_request/usage", params)
        return parse_premium_requests(pages, day.day, source, day.location)

    return day_units(source, load)


SPECS = [
    SourceSpec(kind="copilot_seats", table="seats", options=CopilotSeatOptions, needs_path=False,
               plan=api_or_files(parse_seats, _seat_units), key_env=DEFAULT_KEY_ENV,
               doc="docs/sources/seats_and_agents.md",
               summary="GitHub Copilot seat assignments (login, plan, created, last activity), a snapshot a day"),
    SourceSpec(kind="copilot_premium_requests", table="cost_lines", options=PremiumRequestOptions,
               needs_path=False, plan=api_or_files(parse_premium_requests, _premium_units), key_env=DEFAULT_KEY_ENV,
               doc="docs/sources/seats_and_agents.md",
               summary="GitHub Copilot premium requests beyond the seats' allowance, billed per day, SKU and model"),
]
