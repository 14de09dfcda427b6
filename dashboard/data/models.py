"""Models: what a token really cost per model, and what the same work would cost on another model."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboard.data.period import Filters
from dashboard.data.snapshots import read


def model_usage(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Per provider and model: requests, the token mix, priced cost from the logs and the effective rate
    (priced cost / priced tokens x 1e6, reporting currency per million tokens: what a token really cost with
    this mix)."""
    p = f.period
    return read(snapshot_dir, "model_usage", "usage_daily",
                [p.start, p.end, f.provider, f.provider, f.team, f.team, f.task, f.task])


def whatif(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """The model_whatif mart (over everything loaded, not the period), best saving first."""
    return read(snapshot_dir, "whatif", "model_whatif", [f.provider, f.provider, f.task, f.task])
