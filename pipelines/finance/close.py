"""Closing and reopening a month (docs/finance.md, "Closing a month"): `aispend close` / `aispend reopen`.

A close stores, in one transaction, the month's allocated figures per provider, model, task, team and basis, and
the seats and overage no loaded bill carries (basis `seats`; person_monthly) (`closed_figures`), its AI lines with their amounts (`closed_lines`), who closed it and when (`closed_months`,
and a `close_log` entry that is never deleted). The figures are computed afresh from the warehouse as the
allocated_cost mart computes them, so a close never freezes a stale mart; it refuses while the logs' daily
rollup still owes days of that month (run `aispend run` first). Later deliveries for a closed month load as
usual; the chargeback of a closed month is built from its closed figures, and `changes_after_close` lists
what the new lines would change.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import duckdb
import polars as pl

from pipelines.config import AispendConfig
from pipelines.finance.marts import seats_and_overage
from pipelines.graph import loaded_tables
from pipelines.marts import MARTS, Reads
from pipelines.planning import stale_days, utc_today
from pipelines.reads import ai_cost_lines
from pipelines.transforms.close import LINE_COLUMNS, line_snapshot, month_figures
from warehouse.db import insert_rows, replace_rows, sql, transaction


class CloseError(Exception):
    """A close or reopen that must not happen (the month is open, not over, not closed, or its marts owe days)."""


@dataclass(frozen=True)
class Closed:
    month: date
    by: str
    at: datetime
    currency: str
    billed_cost: float
    effective_cost: float
    lines: int
    figures: int


def parse_month(text: str) -> date:
    """`2026-10` -> 2026-10-01; anything else is refused with the expected shape."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise CloseError(f"{text!r} is not a month: give YYYY-MM, e.g. 2026-10") from None


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def who(by: str | None) -> str:
    """--by when given, else the operating-system user running the command."""
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"


def closed_row(con: duckdb.DuckDBPyConnection, month: date) -> tuple | None:
    """(billed_cost, currency) of a closed month; None while it is open."""
    return con.execute(sql("closed_month"), [month]).fetchone()


def close_month(con: duckdb.DuckDBPyConnection, config: AispendConfig, month: date, by: str | None = None,
                *, today: date | None = None, now: datetime | None = None) -> Closed:
    """Close `month`: store its figures and lines as they stand now. Raises CloseError when it must not."""
    today = today or utc_today()
    end = next_month(month)
    if end > today:
        raise CloseError(f"{month:%Y-%m} is not over yet (today is {today}, UTC): a month closes after its last day")
    if closed_row(con, month) is not None:
        raise CloseError(f"{month:%Y-%m} is already closed; `aispend reopen {month:%Y-%m}` first to close it again")
    owed = stale_days(con, "usage_daily", loaded_tables("usage_daily"))
    if owed is not None and owed[0] < end and owed[1] > month:
        raise CloseError(f"the logs' daily rollup still owes days of {month:%Y-%m} ({owed[0]} .. "
                         f"{owed[1] - timedelta(days=1)}): run `aispend run` first")
    r = Reads(con, config)
    allocated = MARTS["allocated_cost"].transform(r).lazy()
    in_month = (pl.col("day") >= month) & (pl.col("day") < end)
    seats = seats_and_overage(r).filter(pl.col("month") == month)
    figures = pl.concat([month_figures(allocated.filter(in_month)), seats], how="vertical_relaxed").with_columns(
        pl.lit(config.reporting_currency).alias("currency")).collect()
    lines = line_snapshot(r.fx.rate_of_lines(ai_cost_lines(con, (month, end), also=["x_source_file"])).lazy()).with_columns(
        pl.lit(config.reporting_currency).alias("currency")).select(*LINE_COLUMNS, "currency").collect()
    at = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    done = Closed(month, who(by), at, config.reporting_currency, float(figures["billed_cost"].sum() or 0.0),
                  float(figures["effective_cost"].sum() or 0.0), lines.height, figures.height)
    with transaction(con):
        replace_rows(con, "closed_figures", figures, where={"month": month}, atomic=False)
        replace_rows(con, "closed_lines", lines, where={"month": month}, atomic=False)
        replace_rows(con, "closed_months", pl.DataFrame([{
            "month": month, "closed_by": done.by, "closed_at": at, "currency": done.currency,
            "billed_cost": done.billed_cost, "effective_cost": done.effective_cost, "lines": done.lines,
        }]), where={"month": month}, atomic=False)
        _log(con, month, "close", done.by, at, done.billed_cost, done.currency)
    return done


def reopen_month(con: duckdb.DuckDBPyConnection, month: date, by: str | None = None,
                 *, now: datetime | None = None) -> str:
    """Undo a close: the month's closed rows go, the close_log keeps both entries. Returns who reopened it."""
    row = closed_row(con, month)
    if row is None:
        raise CloseError(f"{month:%Y-%m} is not closed")
    person, at = who(by), (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    with transaction(con):
        for table in ("closed_figures", "closed_lines", "closed_months"):
            con.execute(sql("delete_month", table=table), [month])
        _log(con, month, "reopen", person, at, row[0], row[1])
    return person


def _log(con, month: date, action: str, by: str, at: datetime, billed: float | None, currency: str | None) -> None:
    insert_rows(con, "close_log", pl.DataFrame([{"month": month, "action": action, "done_by": by, "done_at": at,
                                                 "billed_cost": billed, "currency": currency}]))

