"""People & seats: every person's AI bill from the person_monthly mart, and the idle_seats mart; `Filters.person`
narrows a view to one person.

person_monthly is monthly: a view covers every month its period touches (a period of 12-20 November shows
November). Every query reads the same filtered rows (dashboard/sql/people_in_view.sql). Money is USD; a seat
priced in another currency has no USD figure and is counted apart, never as $0 (warehouse/README.md).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboard.data.period import Filters
from dashboard.data.snapshots import read


def _people(snapshot_dir: str | Path, query: str, f: Filters) -> pl.DataFrame:
    p = f.period
    params = [p.start, p.end, f.team, f.team, f.person, f.person]
    return read(snapshot_dir, ("people_in_view", query), "person_monthly", params)


def people_spend(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Per person (NULL: the organization): seat cost, usage billed beyond it, API-equivalent value, largest first."""
    return _people(snapshot_dir, "people_spend", f)


def people_totals(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    return _people(snapshot_dir, "people_totals", f)


def people_ledger(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """The person_monthly rows of the view, newest month first."""
    return _people(snapshot_dir, "people_ledger", f)


def plan_fit(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    return _people(snapshot_dir, "plan_fit", f)


def vendor_costs(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Per vendor: seats, usage beyond them, active people and the cost of one active person (USD)."""
    return _people(snapshot_dir, "vendor_costs", f)


def idle_seats(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Seats nobody used in the 30 days to the newest day of data, for the team asked for."""
    return read(snapshot_dir, "idle_seats", "idle_seats", [f.team, f.team, f.person, f.person])


def seats_off_bills(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Seats and vendor-billed usage no loaded bill carries, in the months of the period (USD), for the team and
    the provider asked for (a provider id is the vendor id of its seats: anthropic, openai)."""
    p = f.period
    return read(snapshot_dir, "seats_off_bills", "person_monthly",
                [p.start, p.end, f.team, f.team, f.provider, f.provider])
