"""Money as finance reads it (docs/finance.md): the reporting currency, the open month's expected invoice,
closed months and what changed after them, and how each billing currency converts."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboard.data.snapshots import read

DEFAULT_CURRENCY = "USD"


def reporting_currency(snapshot_dir: str | Path) -> str:
    """The currency the marts are in; USD for snapshots written before marts said (they were in dollars)."""
    got = read(snapshot_dir, "reporting_currency", ("usage_daily", "allocated_cost", "spend_daily"))
    return (got["currency"][0] if got.height else None) or DEFAULT_CURRENCY


def month_to_date(snapshot_dir: str | Path, provider: str | None = None) -> pl.DataFrame:
    """The open month per provider: invoiced so far, the logs' uninvoiced cost, the ratio and the expected rest."""
    return read(snapshot_dir, "month_to_date", "month_to_date", [provider, provider])


def closed_months(snapshot_dir: str | Path) -> pl.DataFrame:
    """Closed months with who closed them, when, the closed figure and what later data would change."""
    return read(snapshot_dir, "closed_months", ("closed_months", "changes_after_close"))


def changes_after_close(snapshot_dir: str | Path) -> pl.DataFrame:
    """Every line that differs from its closed month as closed (added, removed, changed), largest first."""
    return read(snapshot_dir, "changes_after_close", "changes_after_close")


def fx_coverage(snapshot_dir: str | Path) -> pl.DataFrame:
    """Per billing currency converted: its charge days, lines, and the newest rate it converts with."""
    return read(snapshot_dir, "fx_coverage", ("spend_daily", "fx_latest"))
