"""What a loaded value may be, declared once per table and checked for every unit before it is written.

A number that is not finite (`Infinity`, `NaN`), an amount no real bill holds (`1e30`), or a date no export
means (`9999-12-31`, a timestamp of 0 read as 1970) is bad input: it would show as "$inf" on a page, or push a
mart's day range past the calendar. Ingest (pipelines/ingest.py) checks every frame a reader returns against
the bounds of its table here, so a source kind added later is checked with no code of its own; a table that
declares nothing gets bounds by column type (a float must be finite, a date must be a plausible calendar date,
the row's own date column must fall in the load window).

Readers whose frame rows are not the file's rows (one JSON line holding several spans, a delivery of several
files, a file whose rows are filtered) call `refuse_bad_values` themselves with the file's own row numbers, and
readers that cast counts to integers check them with the same bounds first (`TOKENS.bad`). Row numbers are the
file's: the data row of a CSV (1-based, header excluded; a quoted value spanning lines is one row), the line of
a JSON-lines file, the record of a JSON array, the result of an API page (docs/operations.md, "A bad file").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import polars as pl

from pipelines.errors import SourceError
from pipelines.schemas import TIME_COLUMNS

# The load window of a row's own date: nothing before 2000, nothing more than two days ahead of today (UTC; a
# provider in another time zone may stamp tomorrow). An end date may lie further ahead: an invoice period ends
# after today, and FOCUS charges a commitment purchase over its term (up to five years: Azure), so six years.
EARLIEST = date(2000, 1, 1)
AHEAD = timedelta(days=2)
END_AHEAD = timedelta(days=6 * 366)
# Any other date column: a calendar date a person could mean.
CALENDAR = (date(1900, 1, 1), date(2200, 1, 1))

MAX_AMOUNT = 1e12          # per line, in the line's own currency: above any real line even in VND or IDR
MAX_QUANTITY = 1e15        # units consumed or priced on one line (tokens a month, requests, GB-hours)
MAX_TOKENS = 10**13        # tokens on one row (a provider API's daily aggregate included)
MAX_REQUESTS = 10**12      # requests one row stands for
MAX_LATENCY_MS = 7 * 24 * 3600 * 1000.0  # a batch request finishes within a day; a week is past any real one
MAX_MINUTES = 10 * 366 * 24 * 60.0        # a work item's minutes: open for ten years is past any real one


def today() -> date:
    return datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class Bound:
    """A range a column's values must fall in, and how to say so. `low`/`high` may be callables (dates relative
    to today); `whole` asks for whole numbers (counts read from text)."""

    what: str
    low: object
    high: object
    whole: bool = False
    finite: bool = False

    def limits(self) -> tuple[object, object]:
        low, high = (v() if callable(v) else v for v in (self.low, self.high))
        return low, high

    def bad(self, col: pl.Expr) -> pl.Expr:
        """True where a present value is out of bounds (nulls are never bad here: required columns say so)."""
        low, high = self.limits()
        if isinstance(low, date):
            low, high = (datetime(v.year, v.month, v.day) for v in (low, high))
            when = col.cast(pl.Datetime("us"))
            return col.is_not_null() & ((when < low) | (when > high))
        out = (col < low) | (col > high)
        if self.finite:
            out = out | ~col.is_finite()
        if self.whole:
            out = out | (col != col.floor())
        return col.is_not_null() & out

    def expected(self) -> str:
        low, high = self.limits()
        if isinstance(low, date):
            return f"{self.what} between {low} and {high}"
        kind = "a whole number" if self.whole else "a finite number"
        return f"{kind} from {_number(low)} to {_number(high)} ({self.what})"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) < 1e6 else f"{value:.0e}".replace("e+", "e")


def _ahead(delta: timedelta) -> Callable[[], date]:
    return lambda: today() + delta


WHEN = Bound("a date in the load window", EARLIEST, _ahead(AHEAD))
UNTIL = Bound("an end date in the load window", EARLIEST, _ahead(END_AHEAD))
DATE = Bound("a calendar date", *CALENDAR)
AMOUNT = Bound("an amount in the line's currency", -MAX_AMOUNT, MAX_AMOUNT, finite=True)
QUANTITY = Bound("a quantity", -MAX_QUANTITY, MAX_QUANTITY, finite=True)
TOKENS = Bound("a token count", 0, MAX_TOKENS, whole=True, finite=True)
REQUESTS = Bound("a request count", 0, MAX_REQUESTS, whole=True, finite=True)
LATENCY = Bound("milliseconds", 0, MAX_LATENCY_MS, finite=True)
USD = Bound("US dollars", -MAX_AMOUNT, MAX_AMOUNT, finite=True)
MINUTES = Bound("minutes", 0, MAX_MINUTES, finite=True)
SECONDS = Bound("seconds", 0, MAX_MINUTES * 60, finite=True)   # the same time, as an export writes it
SEATS = Bound("a seat count", 0, 10**7, whole=True, finite=True)

# Per table, the columns with a meaning of their own; every other column gets its type's bound (`bounds_for`).
TABLES: dict[str, dict[str, Bound]] = {
    "cost_lines": {
        "BilledCost": AMOUNT, "EffectiveCost": AMOUNT, "ListCost": AMOUNT, "ContractedCost": AMOUNT,
        "ConsumedQuantity": QUANTITY, "PricingQuantity": QUANTITY,
        "ChargePeriodStart": WHEN, "ChargePeriodEnd": UNTIL, "BillingPeriodStart": WHEN, "BillingPeriodEnd": UNTIL,
    },
    "usage_events": {
        "event_time": WHEN, "request_count": REQUESTS, "input_tokens": TOKENS, "cache_read_tokens": TOKENS,
        "cache_write_tokens": TOKENS, "output_tokens": TOKENS, "reasoning_tokens": TOKENS, "latency_ms": LATENCY,
        "cost_usd": USD,
    },
    "work_items": {"opened_at": WHEN, "closed_at": WHEN, "handling_minutes": MINUTES, "elapsed_minutes": MINUTES},
    # A mapping or a seat may be dated ahead (a person joining next month, a seat bought for next quarter): their
    # dates only need to be calendar dates; what was observed (activity) stays in the load window.
    "people": {"valid_from": DATE},
    "seats": {"start_date": DATE, "end_date": DATE, "last_activity_at": WHEN, "snapshot_day": WHEN,
              "seat_count": SEATS, "monthly_price": AMOUNT, "monthly_price_usd": USD},
    "person_activity": {"day": WHEN, "input_tokens": TOKENS, "cache_read_tokens": TOKENS,
                        "cache_write_tokens": TOKENS, "output_tokens": TOKENS, "requests": REQUESTS,
                        "sessions": REQUESTS, "estimated_cost_usd": USD, "billed_usd": USD},
}


def bounds_for(table: str, schema: pl.Schema | dict) -> dict[str, Bound]:
    """The bound of every column of a frame for `table`: declared (in the order declared, which is the order
    a row's faults are reported in), or by type (floats finite, dates plausible, the table's own date column in
    the load window)."""
    declared = TABLES.get(table, {})
    out: dict[str, Bound] = {name: bound for name, bound in declared.items() if name in schema}
    for name, dtype in schema.items():
        if name in declared:
            continue
        if name == TIME_COLUMNS.get(table):
            out[name] = WHEN
        elif dtype in (pl.Float64, pl.Float32):
            out[name] = QUANTITY
        elif isinstance(dtype, pl.Datetime) or dtype == pl.Date:
            out[name] = DATE
    return out


@dataclass(frozen=True)
class BadValue:
    index: int      # 0-based position in the frame checked
    column: str
    value: object
    reason: str


def first_bad_value(frame: pl.DataFrame, table: str, columns: dict[str, Bound] | None = None) -> BadValue | None:
    """The first row (then the first column, in frame order) holding a value out of bounds, or None."""
    checks = columns if columns is not None else bounds_for(table, frame.schema)
    present = [(name, bound) for name, bound in checks.items() if name in frame.columns]
    if not present or not frame.height:
        return None
    hits = frame.select([bound.bad(pl.col(name)).fill_null(False).arg_true().first().alias(f"_{i}")
                         for i, (name, bound) in enumerate(present)]).row(0)
    found = [(index, i) for i, index in enumerate(hits) if index is not None]
    if not found:
        return None
    index, i = min(found)
    name, bound = present[i]
    value = frame[name][int(index)]
    return BadValue(int(index), name, value, f"{show(value)} is not {bound.expected()}")


def refuse_bad_values(frame: pl.DataFrame, table: str, location: str, *, rows: pl.Series | None = None,
                      label: str = "row", names: dict[str, str] | None = None) -> None:
    """Raise a SourceError naming the file, the row (`rows`: the file's own row numbers of the frame's rows),
    the column (`names`: the file's name for a table column, e.g. event_time -> timestamp) and what was
    expected, for the first value out of bounds."""
    bad = first_bad_value(frame, table)
    if bad is None:
        return
    row = int(rows[bad.index]) if rows is not None else bad.index + 1
    column = (names or {}).get(bad.column, bad.column)
    raise SourceError(location, bad.reason, row=row, column=column, unit=label)


def show(value: object) -> str:
    """A value as a refusal quotes it: a float as Python writes it, a midnight as its date, text cut short."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
