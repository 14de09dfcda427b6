"""What every provider-API source shares: one UTC day per Unit, the admin key, and page flattening.

Why a day: provider cost and usage reports keep changing for a day or two after the fact (late usage, batch
jobs finishing, cost restatements), then settle. A day is small enough to re-fetch cheaply and large enough
to be one bucket, so the recent days are re-fetched on every run (fingerprint None: the day's rows are
replaced) while days older than `refresh_days` are final (fingerprint `final:<day>`: fetched once, then
skipped). A day that fails anywhere (HTTP, a malformed page) is refused whole; other days still load.

One declaration serves every provider report (`api_spec`): the provider says where its API lives, how it
takes a day and a grouping, and how the key is sent; the endpoint says its path, grouping and how its pages
become rows. Options are `ApiOptions` (start_date required; see docs/sources/provider_apis.md).

The admin key comes from the environment variable `source.api_key_env` names (or the provider's default
variable). It never appears in a location, an error, the warehouse or the logs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import duckdb
import polars as pl
from pydantic import Field, model_validator

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.http_client import ApiClient
from pipelines.sources.spec import SourceOptions, SourceSpec
from pipelines.sources.units import Unit
from pipelines.sources.bounds import TOKENS, first_bad_value
from pipelines.sources.common import first_row

DEFAULT_REFRESH_DAYS = 3


class ApiOptions(SourceOptions):
    start_date: date = Field(description="first UTC day to load")
    end_date: date | None = Field(default=None, description="last UTC day to load, inclusive (default: today, UTC)")
    refresh_days: int = Field(default=DEFAULT_REFRESH_DAYS, ge=0,
                              description="days younger than this are re-fetched on every run")
    base_url: str | None = Field(default=None, description="the API host (default: the provider's public API)")
    max_retries: int = Field(default=5, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)
    timeout_s: int = Field(default=60, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> "ApiOptions":
        if self.end_date is not None and self.start_date > self.end_date:
            raise ValueError(f"start_date {self.start_date} is after end_date {self.end_date}")
        return self
# Columns flatten() adds so a bad value can be traced to its page and result.
PAGE, ROW, BUCKET_START = "__page", "__row", "__bucket_start"


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class Day:
    """One UTC day and the location that names it (`openai_costs:2026-11-01`: never a key or a URL)."""

    day: date
    location: str

    @property
    def start(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=timezone.utc)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)


def plan_days(source: SourceConfig, today: date | None = None) -> list[tuple[Day, bool]]:
    """Every day from start_date to end_date (capped at today), each with whether it is final."""
    today = today or utc_today()
    options: ApiOptions = source.options
    start = options.start_date
    end = min(options.end_date or today, today)
    refresh = options.refresh_days
    if start > end:
        raise SourceError(f"source {source.name}", f"start_date {start} is after end_date {end} (or today)")
    days = []
    day = start
    while day <= end:
        days.append((Day(day, f"{source.kind}:{day.isoformat()}"), (today - day).days > refresh))
        day += timedelta(days=1)
    return days


def admin_key(source: SourceConfig, default_env: str) -> str:
    """The key from the environment; a missing key is named by its variable, never by value."""
    variable = source.api_key_env or default_env
    key = os.environ.get(variable, "").strip()
    if not key:
        raise SourceError(f"source {source.name}", f"environment variable {variable} is not set: "
                          f"set it to an admin API key (or name another variable in api_key_env)")
    return key


def make_client(source: SourceConfig, default_base_url: str, headers: dict[str, str]) -> ApiClient:
    options: ApiOptions = source.options
    return ApiClient(
        options.base_url or default_base_url,
        headers,
        max_retries=options.max_retries,
        backoff_s=options.backoff_s,
        timeout_s=options.timeout_s,
    )


@dataclass(frozen=True)
class ApiProvider:
    """Where a provider's admin API lives and how it takes a key, a day and a grouping."""

    base_url: str
    key_env: str
    headers: Callable[[str], dict[str, str]]            # the admin key -> request headers
    params: Callable[[Day, list[str]], dict[str, Any]]  # a day and the group-by fields -> query parameters


@dataclass(frozen=True)
class Endpoint:
    """One report of a provider: its path, what it is grouped by, and how one day's pages become rows."""

    path: str
    group_by: list[str]
    parse: Callable[[list[dict], Day, SourceConfig], pl.DataFrame]


def api_spec(kind: str, table: str, provider: ApiProvider, endpoint: Endpoint, summary: str,
             doc: str = "docs/sources/provider_apis.md") -> SourceSpec:
    """A source kind that reads one report of a provider's admin API, one UTC day per unit."""

    def plan(config, source: SourceConfig) -> list[Unit]:
        headers = provider.headers(admin_key(source, provider.key_env))

        def load(day: Day) -> pl.DataFrame:
            with make_client(source, provider.base_url, headers) as client:
                pages = fetch_pages(client, endpoint.path, provider.params(day, endpoint.group_by))
            return endpoint.parse(pages, day, source)

        return day_units(source, load)

    return SourceSpec(kind=kind, table=table, summary=summary, doc=doc, options=ApiOptions, plan=plan,
                      needs_path=False, key_env=provider.key_env)


def located(day: Day, load_day: Callable[[Day], pl.DataFrame]) -> Callable[[], pl.DataFrame]:
    """Load `day`; any SourceError while loading (HTTP or validation) names the day's unit it refused."""

    def load() -> pl.DataFrame:
        try:
            return load_day(day)
        except SourceError as exc:
            if exc.location.startswith(day.location):
                raise
            raise SourceError(day.location, exc.message) from None

    return load


def day_units(source: SourceConfig, load_day: Callable[[Day], pl.DataFrame], today: date | None = None) -> list[Unit]:
    """One Unit per day, each named by its day (`located`)."""
    units = []
    for day, final in plan_days(source, today):
        load = located(day, load_day)

        def fingerprint(day: Day = day, final: bool = final) -> str | None:
            return f"final:{day.day.isoformat()}" if final else None

        owns = {"x_source": source.name, "x_source_file": day.location}
        units.append(Unit(day.location, day.location, load, fingerprint, owns, day.day.isoformat()))
    return units


def fetch_pages(client: ApiClient, path: str, params: dict[str, Any]) -> list[dict]:
    return list(client.paginate(path, params))


def flatten(
    pages: Iterable[dict],
    day: Day,
    bucket_start: Callable[[dict], datetime | None],
    fields: dict[str, str],
) -> pl.DataFrame:
    """One row per (bucket, result) of one day's pages; every field as text (`a.b` reaches into objects).

    Values stay text so Polars does the typing and validation in one place and can say exactly which value
    was wrong: a number arrives as 0.06 or "0.06", and an object where a number belongs is kept as its JSON.
    This walks one API page's parsed JSON (a day is a few hundred results at most), not events.
    """
    columns: dict[str, list] = {name: [] for name in (PAGE, ROW, BUCKET_START, *fields)}
    for page_no, page in enumerate(pages, start=1):
        where = f"{day.location} page {page_no}"
        data = page.get("data")
        if not isinstance(data, list):
            raise SourceError(where, "the page has no 'data' list")
        row = 0
        for bucket in data:
            if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
                raise SourceError(where, "a bucket without a 'results' list")
            start = bucket_start(bucket)
            if start is None:
                raise SourceError(where, "a bucket without a readable start time")
            if not day.start <= start < day.end:
                raise SourceError(where, f"a bucket starting {start.isoformat()} outside the day asked for")
            for result in bucket["results"]:
                row += 1
                if not isinstance(result, dict):
                    raise SourceError(where, "a result that is not an object", row=row)
                columns[PAGE].append(page_no)
                columns[ROW].append(row)
                columns[BUCKET_START].append(start.replace(tzinfo=None))
                for name, path in fields.items():
                    columns[name].append(_as_text(_pick(result, path)))
    schema = {PAGE: pl.Int64, ROW: pl.Int64, BUCKET_START: pl.Datetime("us"), **dict.fromkeys(fields, pl.String)}
    return pl.DataFrame(columns, schema=schema)


def _pick(obj: dict, path: str) -> Any:
    for part in path.split("|"):  # a|b: the first field present (renamed fields across API versions)
        value: Any = obj
        for key in part.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value) if not isinstance(value, float) else repr(value)
    return json.dumps(value, separators=(",", ":"))


def refuse_first(frame: pl.DataFrame, bad: pl.Expr, day: Day, reason: str, column: str, field: str | None = None) -> None:
    """A SourceError naming the day, page, result number and field of the first row where `bad` holds.

    `column` is the frame column whose value is shown; `field` is the API's name for it (default: the same).
    """
    row = first_row(frame, bad)
    if row is None:
        return
    hit = frame.row(row - 1, named=True)
    value = repr(hit.get(column))
    value = value if len(value) <= 60 else value[:57] + "..."
    raise SourceError(f"{day.location} page {hit[PAGE]}", reason.format(value=value), row=hit[ROW],
                      column=field or column)


def check_tokens(frame: pl.DataFrame, day: Day, columns: list[str]) -> None:
    """Token counts must be whole numbers in bounds when present (absent counts are 0)."""
    for name in columns:
        number = pl.col(name).cast(pl.Float64, strict=False)
        bad = pl.col(name).is_not_null() & (number.is_null() | TOKENS.bad(number))
        refuse_first(frame, bad, day, "not a token count ({value} is not " + TOKENS.expected() + ")", name)


def check_bounds(out: pl.DataFrame, raw: pl.DataFrame, day: Day, table: str, names: dict[str, str]) -> pl.DataFrame:
    """The day's rows (`out`, row for row from `raw`) against their table's bounds, a bad value named by its page,
    result and API field (`names`: table column -> field); returns `out`."""
    bad = first_bad_value(out, table)
    if bad is not None:
        hit = raw.row(bad.index, named=True)
        raise SourceError(f"{day.location} page {hit[PAGE]}", bad.reason, row=hit[ROW],
                          column=names.get(bad.column, bad.column))
    return out


def tokens(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64, strict=False).fill_null(0).cast(pl.Int64)


def line_ids(frame: pl.DataFrame, source: str, keys: list[str]) -> pl.Series:
    """md5 of (source, bucket start, the key fields, occurrence): stable across runs and library versions.

    The occurrence number keeps ids unique if the API ever returns two results with the same keys (for
    example after adding a dimension we do not group by): both lines count, neither overwrites the other.
    """
    parts = [pl.lit(source), pl.col(BUCKET_START).dt.strftime("%Y-%m-%dT%H:%M:%S")]
    parts += [pl.col(k).fill_null("\x00") for k in keys]
    content = frame.select(
        pl.concat_str([*parts, pl.int_range(pl.len()).over(keys).cast(pl.String)], separator="\x1f").alias("c")
    )
    con = duckdb.connect()
    try:
        con.register("content", content)
        return con.sql("SELECT md5(c) AS h FROM content").pl()["h"]
    finally:
        con.close()


def month_start(col: pl.Expr) -> pl.Expr:
    return col.dt.truncate("1mo")


def next_month_start(col: pl.Expr) -> pl.Expr:
    return col.dt.truncate("1mo").dt.offset_by("1mo")


@dataclass(frozen=True)
class Biller:
    """Who bills through a provider cost API, as FOCUS names them."""

    provider_id: str  # genai-prices id, for model normalization
    name: str         # ProviderName, PublisherName, InvoiceIssuerName
    service: str      # ServiceName


def api_cost_lines(
    raw: pl.DataFrame,
    day: Day,
    source: SourceConfig,
    biller: Biller,
    *,
    line_id_keys: list[str],
    sub_account: str,
    description: str,
    model: pl.Expr,
    token_type: pl.Expr,
    cost: pl.Expr,
    currency: pl.Expr,
    cost_field: str = "amount",
) -> pl.DataFrame:
    """One day of a provider cost report as FOCUS cost lines: daily Usage charges of AI services.

    The providers differ only in where the model, token type, amount and account sit in their rows.
    """
    from pipelines.models import normalize_model
    from pipelines.schemas import COST_LINES, conform

    out = raw.with_columns(model.alias("__model")).with_columns(
        pl.lit(line_ids(raw, source.name, line_id_keys)).alias("x_line_id"),
        pl.col(sub_account).alias("SubAccountId"),
        pl.lit(biller.name).alias("ProviderName"),
        pl.lit(biller.name).alias("PublisherName"),
        pl.lit(biller.name).alias("InvoiceIssuerName"),
        pl.lit(biller.service).alias("ServiceName"),
        pl.lit("AI and Machine Learning").alias("ServiceCategory"),
        pl.lit("Generative AI").alias("ServiceSubcategory"),
        month_start(pl.col(BUCKET_START)).alias("BillingPeriodStart"),
        next_month_start(pl.col(BUCKET_START)).alias("BillingPeriodEnd"),
        pl.col(BUCKET_START).alias("ChargePeriodStart"),
        pl.col(BUCKET_START).dt.offset_by("1d").alias("ChargePeriodEnd"),
        pl.lit("Usage").alias("ChargeCategory"),
        pl.lit("Usage-Based").alias("ChargeFrequency"),
        pl.col(description).alias("ChargeDescription"),
        pl.col(description).alias("SkuId"),
        cost.alias("BilledCost"),
        cost.alias("EffectiveCost"),
        currency.alias("BillingCurrency"),
        token_type.alias("x_token_type"),
        pl.lit(True).alias("x_is_ai"),
        pl.lit(source.name).alias("x_source"),
        pl.lit(day.location).alias("x_source_file"),
    ).with_columns(
        normalize_model(pl.lit(biller.provider_id), pl.col("__model")).alias("x_model"),
        pl.when(pl.col("__model").is_not_null()).then(pl.lit("model_usage")).otherwise(pl.lit("ai_service"))
        .alias("x_ai_category"),
    )
    return check_bounds(conform(out, COST_LINES), raw, day, "cost_lines",
                        {"BilledCost": cost_field, "EffectiveCost": cost_field})
