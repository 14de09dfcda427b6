"""The idle-seats table, shared by the People & seats page and the Waste page (one builder, one CSV)."""

from __future__ import annotations

from dashboard import data, figures, tables
from dashboard.tables import Column, Table


def days(value) -> str:
    return "never used" if value is None else f"{value:,} days"


IDLE_SEATS = tables.register(Table(
    "idle_seats",
    data.idle_seats,
    (
        Column("person", "Person", lambda v: v or figures.ORGANIZATION, numeric=False),
        Column("team", "Team", numeric=False),
        Column("vendor", "Vendor", figures.provider_label, numeric=False),
        Column("plan", "Plan", numeric=False),
        Column("last_activity_day", "Last active", lambda v: "never" if v is None else f"{v:%-d %b %Y}",
               numeric=False),
        Column("days_idle", "Idle for", days),
        Column("monthly_cost_usd", "Costs a month", figures.money),
        Column("evidence", "Seen by", numeric=False),
    ),
))

IDLE_NOTE = ("Paid seats with no activity in the 30 days to the newest day of data, judged only where a source "
             "reports every seat holder's activity (Seen by); in the reporting currency, a month at the seat's price.")
