"""Waste: spend that bought nothing (recorded) apart from what a lever would have saved (estimated).

Every query reads the same filtered rows (dashboard/sql/waste_in_view.sql).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboard.data.period import Filters
from dashboard.data.snapshots import read


def _waste(snapshot_dir: str | Path, query: str, f: Filters, *more) -> pl.DataFrame:
    p = f.period
    params = [p.start, p.end, f.provider, f.provider, f.team, f.team, f.task, f.task, *more]
    return read(snapshot_dir, ("waste_in_view", query), "waste", params)


def waste_summary(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Per category: requests, the cost of those requests, and the waste or the estimated saving (reporting currency)."""
    return _waste(snapshot_dir, "waste_summary", f)


def waste_detail(snapshot_dir: str | Path, f: Filters, limit: int | None = None) -> pl.DataFrame:
    """Where waste happens, largest first; the page asks for the top rows only, the CSV for all of them."""
    return _waste(snapshot_dir, "waste_detail", f, limit)


def waste_daily(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Measured waste (recorded spend, never the estimates) per day and category."""
    return _waste(snapshot_dir, "waste_daily", f)
