"""What the seat and coding-tool APIs share (Claude Code analytics, GitHub Copilot, Cursor): their units, options,
saved responses, and turning records into typed rows.

Two shapes of unit (docs/sources/seats_and_agents.md):
- a UTC day, as for the cost APIs (`api_days.day_units`): daily reports (Claude Code analytics, Copilot premium
  requests, Cursor daily usage);
- a snapshot: what the API lists today (Copilot seat assignments, Cursor members and spend), one unit per UTC day
  the run happens (`<kind>:<day>`, always re-read that day); earlier snapshots stay as they were loaded, so
  the seats table keeps the history an API that only shows the present cannot give.

Every kind also reads the same responses saved as files (`path:` instead of calling the API), one response or
its pages per file: a JSON object, a JSON list of pages, or pages one after another (`gh api --paginate`). A
file names its UTC day (`2026-11-30.json`) where its records do not carry one. The demo reads them this way.
The admin key comes from the environment variable `api_key_env` names (api_days.admin_key); a missing key
quarantines that source only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import polars as pl
from pydantic import Field, model_validator

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.http_client import ApiClient
from pipelines.sources import api_days
from pipelines.sources.api_days import ApiOptions, Day, located
from pipelines.sources.common import read_bytes
from pipelines.sources.spec import PATH_DATES, SourceOptions
from pipelines.sources.units import Unit, file_units, path_partition


class DayOptions(ApiOptions):
    """A daily report's options; `start_date` is needed only to call the API (saved files carry their days)."""

    start_date: date | None = Field(default=None, description="first UTC day to load (required to call the API)")
    pattern: str | None = Field(default=None, description="with `path`: a file-name glob, e.g. *.json")

    @model_validator(mode="after")
    def _ordered(self) -> "DayOptions":
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError(f"start_date {self.start_date} is after end_date {self.end_date}")
        return self


class SnapshotOptions(SourceOptions):
    """A snapshot report's options (what the API lists today)."""

    base_url: str | None = Field(default=None, description="the API host (default: the vendor's public API)")
    max_retries: int = Field(default=5, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)
    timeout_s: int = Field(default=60, ge=1)
    pattern: str | None = Field(default=None, description="with `path`: a file-name glob, e.g. *.json")


class SeatOptions(SnapshotOptions):
    """Seats the API lists without a price: the plan and price to count them at."""

    plan: str | None = Field(default=None, description="the plan of every seat, when the API does not say")
    monthly_price: float | None = Field(default=None, ge=0, description="price per seat and month; default: the "
                                        "plan's list price (pipelines/plans.py)")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")


@dataclass(frozen=True)
class _FileKind:
    """What `units.file_units` needs of a kind: a reader (one file at a time) and the path dates."""

    read: Callable[..., pl.DataFrame]
    path_dates: tuple = PATH_DATES
    read_many: None = None


Parse = Callable[[list[dict], "date | None", SourceConfig, str], pl.DataFrame]  # pages, day, source, location


def saved_pages(path: str, data: bytes | None) -> list[dict]:
    """A saved response: one page object, a list of pages, or pages one after another (JSON lines included)."""
    text = read_bytes(path, data).decode("utf-8-sig", errors="replace").strip()
    decoder, pages, at = json.JSONDecoder(), [], 0
    while at < len(text):
        try:
            value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise SourceError(path, f"not valid JSON at character {exc.pos} (line {exc.lineno})") from None
        pages += value if isinstance(value, list) else [value]
        at = end
        while at < len(text) and text[at].isspace():
            at += 1
    if not pages or not all(isinstance(p, dict) for p in pages):
        raise SourceError(path, "expected a saved API response: a JSON object, or a list of them")
    return pages


def file_day(path: str) -> date | None:
    found = path_partition(path.replace("\\", "/").rsplit("/", 1)[-1])
    return date.fromisoformat(found) if found and len(found) == 10 else None


def api_or_files(parse: Parse, api_units: Callable[[SourceConfig], list[Unit]]):
    """A planner: saved responses under the source's `path`, else the API's units."""

    def read(path: str, source: SourceConfig, data: bytes | None = None) -> pl.DataFrame:
        return parse(saved_pages(path, data), file_day(path), source, path)

    def plan(config, source: SourceConfig) -> list[Unit]:
        if source.path:
            return file_units(config, source, _FileKind(read))
        return api_units(source)

    return plan


def snapshot_unit(source: SourceConfig, name: str, load: Callable[[Day], pl.DataFrame],
                  today: date | None = None) -> Unit:
    """Today's snapshot: `<name>:<day>`, re-read on every run of the day, replacing only that day's rows."""
    day = today or api_days.utc_today()  # through the module: tests set the day
    snap = Day(day, f"{name}:{day.isoformat()}")
    return Unit(snap.location, snap.location, located(snap, load), lambda: None,
                {"x_source": source.name, "x_source_file": snap.location}, day.isoformat())


def client(source: SourceConfig, base_url: str, headers: dict[str, str], key: str) -> ApiClient:
    options = source.options
    return ApiClient(options.base_url or base_url, headers, max_retries=options.max_retries,
                     backoff_s=options.backoff_s, timeout_s=options.timeout_s, secrets=(key,))


def need(source: SourceConfig, option: str) -> Any:
    """An option the API needs (and saved files do not): its absence quarantines the source, naming it."""
    value = getattr(source.options, option)
    if value is None:
        raise SourceError(f"source {source.name}", f"option {option} is required to call the API "
                          "(or give `path` to read saved responses)")
    return value


# --- records to rows -------------------------------------------------------------------------------------------

def pick(obj: Any, path: str) -> Any:
    for key in path.split("."):
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def records(pages: Iterable[dict], key: str, location: str) -> list[tuple[int, int, dict]]:
    """(page, row, record) for every record under `key` of every page; a page without the list is refused."""
    out = []
    for page_no, page in enumerate(pages, start=1):
        items = page.get(key)
        if not isinstance(items, list):
            raise SourceError(f"{location} page {page_no}", f"the page has no '{key}' list")
        for row, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise SourceError(f"{location} page {page_no}", "a record that is not an object", row=row)
            out.append((page_no, row, item))
    return out


def whole(value: Any, where: str, row: int, field: str, *, required: bool = False) -> int | None:
    """A count: a whole number >= 0 (absent: None, or refused when required). Never echoes the value's owner."""
    if value is None:
        if required:
            raise SourceError(where, "missing count", row=row, column=field)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SourceError(where, "not a count (a whole number >= 0)", row=row, column=field)
    try:
        number = float(value)
    except ValueError:
        raise SourceError(where, f"not a count (a whole number >= 0): {str(value)[:20]!r}", row=row,
                          column=field) from None
    if number != number or number < 0 or number != int(number):
        raise SourceError(where, f"not a count (a whole number >= 0): {value!r}", row=row, column=field)
    return int(number)


def amount(value: Any, where: str, row: int, field: str) -> float | None:
    """Money as a finite number (numbers or numeric strings), None when absent."""
    if value is None:
        return None
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        raise SourceError(where, f"not an amount: {str(value)[:20]!r}", row=row, column=field)
    return number


def utc_time(value: Any, where: str, row: int, field: str) -> datetime | None:
    """ISO 8601 text (`2026-11-02T09:15:00Z`, offsets) or Unix milliseconds, as naive UTC; None when absent."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value / 1000, timezone.utc)
        elif isinstance(value, str) and value.strip().isdigit():
            moment = datetime.fromtimestamp(int(value) / 1000, timezone.utc)
        else:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise SourceError(where, f"not a time: {str(value)[:30]!r}", row=row, column=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def frame(rows: list[dict], schema: dict[str, pl.DataType], source: SourceConfig, location: str) -> pl.DataFrame:
    """Rows typed as the table, stamped with their source and unit (file units set their own key later)."""
    from pipelines.schemas import conform

    out = pl.DataFrame(rows, schema={k: v for k, v in schema.items() if any(k in r for r in rows)} or None,
                       infer_schema_length=None) if rows else pl.DataFrame(schema=schema)
    return conform(out.with_columns(pl.lit(source.name).alias("x_source"), pl.lit(location).alias("x_source_file")),
                   schema)
