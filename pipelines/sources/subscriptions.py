"""The subscriptions file: paid plans no API reports (ChatGPT Plus/Business, Claude Pro/Max/Team, Cursor, ...),
into the `seats` table. YAML:

    subscriptions:
      - vendor: anthropic            # anthropic | openai | github | cursor, or a product name (Claude, ChatGPT, ...)
        plan: Claude Max 20x         # normalized through aispend's plan table (pipelines/plans.py)
        person: ana@acme.com         # an identity the people file maps, or the person's name
        monthly_price: 200           # per seat and month; default: the plan's list price (plans.py)
        currency: USD                # default USD
        start: 2026-01-01
        end: 2026-06-30              # optional: the last paid day
      - vendor: openai
        plan: ChatGPT Business
        seats: 6                     # a count of seats nobody is named for
        monthly_price: 30
        start: 2026-03-01

or CSV with the same columns. Each entry is a person's seat (`person`) or a number of seats (`seats`), never
both. A price in another currency keeps `monthly_price_usd` NULL (never converted silently): USD sums leave it out.
Messages name entries and fields, never a person.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.errors import SourceError
from pipelines.plans import list_price, plan_id, vendor_id
from pipelines.schemas import SEATS, conform
from pipelines.sources.bounds import refuse_bad_values
from pipelines.sources.common import ISO_4217
from pipelines.sources.entries import day, number, read_entries, text, unknown_fields
from pipelines.sources.spec import SourceSpec

FIELDS = {"vendor", "plan", "person", "seats", "monthly_price", "currency", "start", "end"}
SUBSCRIPTIONS, PLAN_LIST_PRICE = "subscriptions", "plan_list_price"


def _row(path: str, i: int, entry: dict[str, Any]) -> dict:
    unknown_fields(path, i, entry, FIELDS)
    for field in ("vendor", "plan", "start"):
        if text(entry.get(field)) is None:
            raise SourceError(path, f"entry {i}: missing {field}", row=i, column=field)
    vendor = vendor_id(text(entry["vendor"]))
    plan = plan_id(vendor, text(entry["plan"]))
    person = text(entry.get("person"))
    seats = number(path, i, "seats", entry.get("seats"), minimum=1)
    if seats is not None and seats != int(seats):
        raise SourceError(path, f"entry {i}: seats must be a whole number", row=i, column="seats")
    if person and seats not in (None, 1):
        raise SourceError(path, f"entry {i}: give a person or a number of seats, not both", row=i, column="seats")
    if not person and seats is None:
        raise SourceError(path, f"entry {i}: give a person or a number of seats", row=i, column="person")
    price = number(path, i, "monthly_price", entry.get("monthly_price"))
    source = SUBSCRIPTIONS
    if price is None:
        price, source = list_price(vendor, plan), PLAN_LIST_PRICE
        if price is None:
            raise SourceError(path, f"entry {i}: no monthly_price, and aispend's plan table has no list price for "
                              f"{vendor} {plan}", row=i, column="monthly_price")
    currency = (text(entry.get("currency")) or "USD").upper()
    if currency not in ISO_4217:
        raise SourceError(path, f"entry {i}: currency must be an ISO 4217 code", row=i, column="currency")
    start, end = day(path, i, "start", entry["start"]), day(path, i, "end", entry.get("end"))
    if end is not None and end < start:
        raise SourceError(path, f"entry {i}: end is before start", row=i, column="end")
    return {
        "vendor": vendor, "plan": plan, "identity": person, "seat_count": int(seats or 1), "monthly_price": price,
        "currency": currency, "monthly_price_usd": price if currency == "USD" else None, "price_source": source,
        "start_date": start, "end_date": end,
    }


def read(path: str, source, data: bytes | None = None) -> pl.DataFrame:
    rows = [_row(path, i, e) for i, e in enumerate(read_entries(path, data, "subscriptions"), start=1)]
    frame = pl.DataFrame(rows, schema=SEATS) if rows else pl.DataFrame(schema=SEATS)
    refuse_bad_values(frame, "seats", path, names={"start_date": "start", "end_date": "end"})  # a row per entry
    return conform(frame.with_columns(pl.lit(source.name).alias("x_source")), SEATS)


SPEC = SourceSpec(kind="subscriptions", table="seats", read=read, doc="docs/sources/seats_and_agents.md",
                  summary="paid AI plans no API reports (ChatGPT, Claude, Cursor, ...): a person's seat or a count "
                          "of seats, monthly price, currency, start and end (YAML or CSV)")
