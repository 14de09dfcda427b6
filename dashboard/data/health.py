"""Data health: which sources loaded and when, which files were refused and why, how much is priced."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboard.data.period import Period
from dashboard.data.snapshots import read


def sources(snapshot_dir: str | Path) -> pl.DataFrame:
    """Per config source: files read (their latest attempt), quarantined, rows loaded, last load (UTC)."""
    return read(snapshot_dir, ("latest_ingest", "sources"), "ingest_log")


def checks(snapshot_dir: str | Path) -> pl.DataFrame:
    """Every check's latest verdict: what it found, at what severity, when it was evaluated and since when it
    holds (pipelines/checks.py evaluates them at the end of every run)."""
    return read(snapshot_dir, "check_results", "check_results")


def quarantined(snapshot_dir: str | Path) -> pl.DataFrame:
    """Files whose latest attempt was refused, with the reason (a file fixed and re-read leaves this list)."""
    return read(snapshot_dir, ("latest_ingest", "quarantined"), "ingest_log")


def coverage(snapshot_dir: str | Path, period: Period) -> pl.DataFrame:
    """Per provider: requests, unpriced requests, the share priced and how many models lack a price."""
    return read(snapshot_dir, "price_coverage", "usage_daily", [period.start, period.end])
