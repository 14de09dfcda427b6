"""Waste: AI spend that bought nothing (failures, retries, idle capacity), and what the batch API or prompt
caching would have saved. Recorded spend and estimated savings are shown apart and never added together."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import data, figures, ids, tables
from dashboard.pages import filter_bar, filters_from_query, missing, no_data, register_filter_callback, snapshot_dir, title_row
from dashboard.tables import Column, Table

PATH = "/waste"
TITLE = "Waste"

dash.register_page(__name__, path=PATH, name=TITLE, title="aispend: waste", order=4)


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


def _card(label, value, detail, value_id, tone=""):
    return html.Div([html.Div(label, className="card-label"), html.Div(value, className="card-value", id=value_id),
                     html.Div(detail, className="card-detail")], className=f"card {tone}".strip())


def layout(**query) -> html.Div:
    snap = snapshot_dir()
    bounds = data.day_range(snap)
    if bounds is None:
        return no_data(TITLE)
    filters, note = filters_from_query(bounds, query)
    choices = {"provider": figures.provider_options(data.providers(snap)), "team": data.teams(snap),
               "task": data.task_names(snap)}
    body = [title_row(ids.WASTE, TITLE, filters.period), filter_bar(ids.WASTE, PATH, filters, bounds, choices, note)]
    if not data.has_snapshot(snap, "waste"):
        body.append(missing("Waste"))
        return html.Div(body, className="page")
    summary = data.waste_summary(snap, filters)
    spent = summary.filter(~summary["is_estimate"])["cost_usd"].sum()
    estimates = summary.filter(summary["is_estimate"])
    best = estimates.sort("cost_usd", descending=True, nulls_last=True).head(1)
    body += [
        html.Div(
            [
                _card("Spend that bought nothing", figures.money(spent),
                      "USD recorded: priced failed requests and retries, billed idle capacity",
                      ids.scoped(ids.WASTE, "spent"), "warn" if spent else ""),
                _card("Largest avoidable saving (estimate)",
                      figures.money(best["cost_usd"][0]) if best.height else "—",
                      (_category(best["category"][0]) + "; estimates overlap, never add them") if best.height
                      else "no estimate for these filters", ids.scoped(ids.WASTE, "estimate"), "headline"),
            ],
            className="cards",
        ),
        html.Div(dcc.Graph(id=ids.chart(ids.WASTE, "daily"), figure=figures.waste_daily(data.waste_daily(snap, filters)),
                           config={"displaylogo": False, "responsive": True}), className="panel"),
        tables.render(SUMMARY, summary, "By category",
                      "USD. 'spent' is money already paid for nothing; 'estimate' is what a lever would have saved "
                      "on work that was done. Unpriced requests count in Requests with an unknown cost (not $0)."),
        tables.render(DETAIL, data.waste_detail(snap, filters, limit=DETAIL_ROWS), "Where it happens",
                      f"The {DETAIL_ROWS} largest by waste or saving, USD; the CSV has every row."),
    ]
    return html.Div(body, className="page")


DETAIL_ROWS = 50


def register_callbacks(app: dash.Dash) -> None:
    register_filter_callback(app, ids.WASTE, ["provider", "team", "task"])
