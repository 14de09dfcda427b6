"""What a view covers: an inclusive range of UTC days, the filters the URL asks for, and the days with data.

The default period is the last 30 days *of data*, not of the calendar: exports arrive late (docs/dashboard.md,
"Filters and sharing").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dashboard.data.snapshots import read
from pipelines.sources.bounds import EARLIEST

DEFAULT_PERIOD_DAYS = 30
# The days an address may ask for. The pipeline loads nothing before 2000 (pipelines/sources/bounds.py), and a
# day like 0001-01-01 or 9999-12-31 would overflow the date arithmetic of a view (its previous period).
FIRST_DAY, LAST_DAY = EARLIEST, date(2100, 12, 31)


@dataclass(frozen=True)
class Period:
    """An inclusive range of UTC days."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @classmethod
    def ending(cls, end: date, days: int) -> Period:
        return cls(end - timedelta(days=days - 1), end)


@dataclass(frozen=True)
class Filters:
    """What the URL asks for: a period and optional provider (genai-prices id), team and task; `person` (People &
    seats) narrows a view to one person of person_monthly."""

    period: Period
    provider: str | None = None
    team: str | None = None
    task: str | None = None
    person: str | None = None


def day_range(snapshot_dir: str | Path) -> tuple[date, date] | None:
    """First and last day with data: billed spend, else the request logs, else the task runs; None before the
    first run."""
    found = read(snapshot_dir, "day_range", ("spend_daily", "usage_daily", "task_daily"))
    return (found["first_day"][0], found["last_day"][0]) if found.height else None


def default_period(snapshot_dir: str | Path, days: int = DEFAULT_PERIOD_DAYS) -> Period | None:
    """The last `days` days of data available."""
    found = day_range(snapshot_dir)
    return Period.ending(found[1], days) if found else None
