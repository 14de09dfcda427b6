"""People & seats: every person's AI bill (seat, usage billed beyond it, API-equivalent value), idle seats and what
they cost, whether each plan fits, the cost of one active person per vendor; `?person=` narrows the page to one
person's months. Names are what the warehouse holds: keyed hashes when privacy.pseudonymize_people is on."""

from __future__ import annotations

import dash
import polars as pl
from dash import dcc, html

from dashboard import data, figures, ids, tables
from dashboard.components import card, cards, graph_panel, missing
from dashboard.pages import Page, View, search
from dashboard.seat_tables import IDLE_NOTE, IDLE_SEATS
from dashboard.tables import Column, Table

PAGE = Page(ids.PEOPLE, "/people", "People & seats", ("team",))

dash.register_page(__name__, path=PAGE.path, name=PAGE.title, title="aispend: people & seats", order=4.5)


def _person(value) -> str:
    return figures.ORGANIZATION if value is None else value


def _yes(value) -> str:
    return "—" if value is None else ("yes" if value else "no")


PEOPLE_TABLE = tables.register(Table(
    "people_spend",
    data.people_spend,
    (
        Column("person", "Person", _person, numeric=False),
        Column("team", "Team", numeric=False),
        Column("vendors", "Vendors", numeric=False),
        Column("seat_cost_usd", "Seats", figures.money),
        Column("usage_cost_usd", "Usage beyond seats", figures.money),
        Column("total_usd", "Total", figures.money),
        Column("api_equivalent_usd", "API-equivalent value", figures.money),
        Column("most_active_days", "Active days (busiest month)", figures.count),
    ),
    row_class=lambda r: "warn" if r["has_idle_seat"] else None,
))
FIT_TABLE = tables.register(Table(
    "plan_fit",
    data.plan_fit,
    (
        Column("person", "Person", _person, numeric=False),
        Column("vendor", "Vendor", figures.provider_label, numeric=False),
        Column("plan", "Plan", numeric=False),
        Column("month", "Month", lambda v: f"{v:%b %Y}", numeric=False),
        Column("api_equivalent_usd", "API-equivalent value", figures.money),
        Column("plan_price_usd", "Plan price", figures.money),
        Column("next_plan", "Next plan", numeric=False),
        Column("next_plan_price_usd", "Next plan price", figures.money),
        Column("plan_fit", "Fit", numeric=False),
    ),
    row_class=lambda r: {"outgrown": "loss", "underused": "warn"}.get(r["plan_fit"]),
))
VENDOR_TABLE = tables.register(Table(
    "vendor_costs",
    data.vendor_costs,
    (
        Column("vendor", "Vendor", figures.provider_label, numeric=False),
        Column("seat_cost_usd", "Seats", figures.money),
        Column("usage_cost_usd", "Usage beyond seats", figures.money),
        Column("people_with_seats", "People with seats", figures.count),
        Column("active_people", "Active people", figures.count),
        Column("cost_per_active_person_usd", "Cost per active person", figures.money),
    ),
))
LEDGER = tables.register(Table(
    "people_ledger",
    data.people_ledger,
    (
        Column("month", "Month", lambda v: f"{v:%Y-%m}", numeric=False),
        Column("person", "Person", _person, numeric=False),
        Column("vendor", "Vendor", figures.provider_label, numeric=False),
        Column("plan", "Plan", lambda v: v or "—", numeric=False),
        Column("seats", "Seats", figures.count),
        Column("seat_cost_usd", "Seat cost", figures.money),
        Column("usage_cost_usd", "Usage beyond seat", figures.money),
        Column("usage_cost_basis", "Usage basis", numeric=False),
        Column("api_equivalent_usd", "API-equivalent", figures.money),
        Column("active_days", "Active days", figures.count),
        Column("sessions", "Sessions", figures.count),
        Column("lines_added", "Lines added", figures.count),
        Column("commits", "Commits", figures.count),
        Column("pull_requests", "PRs", figures.count),
        Column("is_idle_seat", "Idle seat", _yes, numeric=False),
        Column("plan_fit", "Plan fit", lambda v: v or "—", numeric=False),
    ),
    row_class=lambda r: "warn" if r["is_idle_seat"] else None,
))


def _person_link(row: dict, filters: data.Filters) -> html.Td:
    if row["person"] is None:
        return html.Td(figures.ORGANIZATION)
    name = [dcc.Link(row["person"], href=PAGE.path + search(filters.period, team=filters.team, person=row["person"]),
                     className="task-name")]
    if row.get("is_mapped") is False:
        name += [" ", html.Span("not in the people file", className="badge unknown")]
    if row.get("has_idle_seat"):
        name += [" ", html.Span("idle seat", className="badge loss")]
    return html.Td(name)


def _summary(totals: pl.DataFrame, idle: pl.DataFrame, currency: str) -> html.Div:
    row = totals.row(0, named=True) if totals.height else {}
    unpriced = row.get("unpriced_seat_months") or 0
    return cards([
        card("Seats and subscriptions", figures.money(row.get("seat_cost_usd"), currency),
             f"{currency}, the months of the period, prorated to the days held"
             + (f"; {unpriced} seat-month(s) priced in another currency left out" if unpriced else ""),
             value_id=ids.scoped(ids.PEOPLE, "seats"), tone="headline"),
        card("Usage beyond seats", figures.money(row.get("usage_cost_usd"), currency),
             f"{currency}: API use priced from the logs, vendors' overage and estimates, Copilot premium requests",
             value_id=ids.scoped(ids.PEOPLE, "usage")),
        card("Idle seats now", figures.count(idle.height),
             f"{figures.money(idle['monthly_cost_usd'].sum() if idle.height else 0, currency)} a month for seats "
             "nobody used "
             "in 30 days", value_id=ids.scoped(ids.PEOPLE, "idle"), tone="warn" if idle.height else ""),
        card("Not on any loaded bill", figures.money(row.get("not_on_bills_usd"), currency),
             f"{currency} of seats and vendor-billed usage no bill carries: added to budgets, the forecast and "
             "chargeback",
             value_id=ids.scoped(ids.PEOPLE, "off-bills")),
    ])


def _drill_header(filters: data.Filters) -> html.H2:
    everyone = PAGE.path + search(filters.period, team=filters.team)
    return html.H2(["Person ", html.Code(filters.person),
                    html.Span([" month by month, every vendor · ", dcc.Link("all people", href=everyone)],
                              className="muted small")], id=ids.scoped(ids.PEOPLE, "drill"))


def layout(**query) -> html.Div:
    return PAGE.render(query, _body)


def _body(view: View) -> list:
    snap, filters, currency = view.snap, view.filters, view.currency
    if not data.has_snapshot(snap, "person_monthly"):
        return [missing("People & seats")]
    spend = data.people_spend(snap, filters)
    idle = data.idle_seats(snap, filters)
    return [
        _drill_header(filters) if filters.person else None,
        html.P("Monthly figures: the view covers every month its period touches.", className="note"),
        _summary(data.people_totals(snap, filters), idle, currency),
        graph_panel(ids.chart(ids.PEOPLE, "spend"), figures.person_spend_bars(spend, currency)),
        tables.render(PEOPLE_TABLE, spend, "Per person",
                      f"{currency}. Seats at subscription or list price; usage beyond them as billed or priced from the "
                      "logs; API-equivalent: what their tokens cost at the price table's rates (— : no tokens "
                      "reported). Click a person for their months.",
                      first_cell=lambda row: _person_link(row, filters), currency=currency),
        tables.render(IDLE_SEATS, idle, "Idle seats", IDLE_NOTE, currency=currency),
        tables.render(FIT_TABLE, data.plan_fit(snap, filters), "Plan fit",
                      "API-equivalent value of each seat holder's use in the latest month against this plan's and "
                      f"the next plan's list price ({currency}; prorated to the days with data in the newest month): "
                      "underused below this plan's price, outgrown above the next plan's (or when seat plus overage "
                      "already cost more). Seats whose vendor reports no tokens (Copilot, Cursor) cannot be judged "
                      "and are left out.", currency=currency),
        tables.render(VENDOR_TABLE, data.vendor_costs(snap, filters), "Cost per active person, by vendor",
                      f"{currency} of seats and usage beyond them in the months of the period, divided by the people "
                      "with any activity with that vendor.", currency=currency),
        tables.render(LEDGER, data.people_ledger(snap, filters), "Every month, person and plan",
                      "The person_monthly rows of the view. Usage basis: logs (priced requests), vendor_billed (the "
                      "vendor's overage), vendor_estimate (the vendor's estimate), invoice (billed to the "
                      "organization). The CSV has every column.", max_rows=100, currency=currency),
    ]


def register_callbacks(app: dash.Dash) -> None:
    PAGE.register_filter_callback(app)
