"""Waste: AI spend that bought nothing (failures, retries, idle capacity), and what the batch API or prompt
caching would have saved. Recorded spend and estimated savings are shown apart and never added together."""

from __future__ import annotations

import dash
from dash import html

from dashboard import data, figures, ids, tables
from dashboard.components import card, cards, graph_panel, missing
from dashboard.pages import Page, View
from dashboard.seat_tables import IDLE_NOTE, IDLE_SEATS
from dashboard.tables import Column, Table

PAGE = Page(ids.WASTE, "/waste", "Waste", ("provider", "team", "task"))
DETAIL_ROWS = 50

dash.register_page(__name__, path=PAGE.path, name=PAGE.title, title="aispend: waste", order=4)


def _category(value):
    return figures.CATEGORY_LABELS.get(value, value or "—")


def _kind(value):
    return "estimate" if value else "spent"


SUMMARY = tables.register(Table(
    "waste_summary",
    data.waste_summary,
    (
        Column("category", "Category", _category, numeric=False),
        Column("is_estimate", "Kind", _kind, numeric=False),
        Column("requests", "Requests", figures.count),
        Column("affected_cost_usd", "Cost of those requests", figures.money),
        Column("cost_usd", "Waste / saving", figures.money),
        Column("explanation", "What it counts", numeric=False),
    ),
))
DETAIL = tables.register(Table(
    "waste_detail",
    data.waste_detail,
    (
        Column("category", "Category", _category, numeric=False),
        Column("is_estimate", "Kind", _kind, numeric=False),
        Column("provider", "Provider", figures.provider_label, numeric=False),
        Column("model", "Model", numeric=False),
        Column("task", "Task", numeric=False),
        Column("team", "Team", numeric=False),
        Column("requests", "Requests", figures.count),
        Column("cost_usd", "Waste / saving", figures.money),
    ),
))


def layout(**query) -> html.Div:
    return PAGE.render(query, _body)


def _body(view: View) -> list:
    snap, filters, currency = view.snap, view.filters, view.currency
    if not data.has_snapshot(snap, "waste"):
        return [missing("Waste")]
    summary = data.waste_summary(snap, filters)
    spent = summary.filter(~summary["is_estimate"])["cost_usd"].sum()
    estimates = summary.filter(summary["is_estimate"])
    best = estimates.sort("cost_usd", descending=True, nulls_last=True).head(1)
    idle = data.idle_seats(snap, filters) if data.has_snapshot(snap, "idle_seats") else None
    return [
        cards([
            card("Spend that bought nothing", figures.money(spent, currency),
                 f"{currency} recorded: priced failed requests and retries, billed idle capacity",
                 value_id=ids.scoped(ids.WASTE, "spent"), tone="warn" if spent else ""),
            card("Largest avoidable saving (estimate)",
                 figures.money(best["cost_usd"][0], currency) if best.height else "—",
                 (_category(best["category"][0]) + "; estimates overlap, never add them") if best.height
                 else "no estimate for these filters", value_id=ids.scoped(ids.WASTE, "estimate"), tone="headline"),
            *_idle_card(idle, currency),
        ]),
        graph_panel(ids.chart(ids.WASTE, "daily"), figures.waste_daily(data.waste_daily(snap, filters), currency)),
        tables.render(SUMMARY, summary, "By category",
                      f"{currency}. 'spent' is money already paid for nothing; 'estimate' is what a lever would have "
                      "saved on work that was done. Unpriced requests count in Requests with an unknown cost (not "
                      "$0).", currency=currency),
        tables.render(IDLE_SEATS, idle, "Idle seats", IDLE_NOTE, currency=currency) if idle is not None else None,
        tables.render(DETAIL, data.waste_detail(snap, filters, limit=DETAIL_ROWS), "Where it happens",
                      f"The {DETAIL_ROWS} largest by waste or saving, {currency}; the CSV has every row.",
                      currency=currency),
    ]


def _idle_card(idle, currency: str) -> list:
    """Seats paid for that nobody uses (the idle_seats mart, as of the newest day of data): a cost the request
    logs cannot show, and not part of the period's recorded waste above."""
    if idle is None:
        return []
    monthly = idle["monthly_cost_usd"].sum() if idle.height else 0.0
    return [card("Idle seats now", figures.count(idle.height),
                 f"{figures.money(monthly, currency)} a month ({currency}) for seats nobody used in 30 days "
                 "(People & seats)",
                 value_id=ids.scoped(ids.WASTE, "idle-seats"), tone="warn" if idle.height else "")]


def register_callbacks(app: dash.Dash) -> None:
    PAGE.register_filter_callback(app)
