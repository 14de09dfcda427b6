"""Evidence: each task's AI-assisted work items against the rest, from the task_evidence marts (docs/evidence.md).

The verdicts, intervals and money are the pipeline's (pipelines/transforms/evidence_stats.py), over the config's
evidence period; what follows the page's dates is the weekly series and the spread of minutes.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboard.data.period import Filters, Period
from dashboard.data.snapshots import read


def evidence(snapshot_dir: str | Path, team: str | None = None, task: str | None = None) -> pl.DataFrame:
    """task_evidence: one row per task over every team, or the team's rows (every column of the mart)."""
    return read(snapshot_dir, "evidence_tasks", "task_evidence", [team, team, task, task])


def evidence_weekly(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """The selected task's weekly medians (minutes) and AI share, weeks touching the period."""
    return read(snapshot_dir, "evidence_weekly", "task_evidence_weekly",
                [f.task, f.team, f.team, f.period.start, f.period.end])


def evidence_spread(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """The selected task's minutes per side: percentiles and mean of the period's measured items."""
    return read(snapshot_dir, "evidence_spread", "evidence_items",
                [f.task, f.period.start, f.period.end, f.team, f.team])


def items_ai(snapshot_dir: str | Path, period: Period, team: str | None = None) -> pl.DataFrame:
    """Measured AI-assisted items per task closed in the period."""
    return read(snapshot_dir, "evidence_items_ai", "evidence_items", [period.start, period.end, team, team])
