"""Reconciliation: the invoices against the logs, and the spend no task or price explains."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboard.data.period import Filters
from dashboard.data.snapshots import read


def reconciliation(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Invoice against logs per provider and month, over the days of the period (a month billed as one period
    counts whole when the period touches it)."""
    p = f.period
    params = [p.start, p.end, p.start, p.end, f.provider, f.provider]
    return read(snapshot_dir, "reconciliation", "reconciliation", params)


def unattributed(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Allocated AI cost no task used, by provider and why (allocated_cost basis)."""
    return read(snapshot_dir, "unattributed", "allocated_cost", [f.period.start, f.period.end, f.provider, f.provider])


def unpriced(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Models with requests the price table could not price (their cost is unknown, never $0)."""
    return read(snapshot_dir, "unpriced", "usage_daily", [f.period.start, f.period.end, f.provider, f.provider])
