"""Reconciliation: the invoices against the logs, the gap in named parts, and the spend no task or price explains."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import data, figures, ids, tables
from dashboard.pages import filter_bar, filters_from_query, missing, no_data, register_filter_callback, snapshot_dir, title_row
from dashboard.tables import Column, Table

PATH = "/reconciliation"
TITLE = "Reconciliation"

dash.register_page(__name__, path=PATH, name=TITLE, title="aispend: reconciliation", order=3)

RECON = tables.register(Table(
    "reconciliation",
    data.reconciliation,
    (
        Column("provider", "Provider", figures.provider_label, numeric=False),
        Column("month", "Month", lambda v: v.strftime("%b %Y") if v else "—", numeric=False),
        Column("billed_cost_usd", "Billed", figures.money),
        Column("logged_cost_usd", "Logs (priced)", figures.money),
        Column("difference_usd", "Difference", figures.money),
        Column("difference_pct", "Diff. %", lambda v: "—" if v is None else f"{v:,.1f}%"),
        Column("credits_usd", "Credits", figures.money),
        Column("discount_usd", "Discount", figures.money),
        Column("unpriced_models_usd", "Unpriced models", figures.money),
        Column("missing_from_logs_usd", "Missing from logs", figures.money),
        Column("missing_from_invoice_usd", "Missing from invoice", figures.money),
        Column("unexplained_usd", "Unexplained", figures.money),
    ),
))
UNATTRIBUTED = tables.register(Table(
    "unattributed",
    data.unattributed,
    (
        Column("provider", "Provider", figures.provider_label, numeric=False),
        Column("basis", "Why no task", numeric=False),
        Column("billed_cost_usd", "Billed (allocated)", figures.money),
        Column("effective_cost_usd", "Effective (allocated)", figures.money),
    ),
))
UNPRICED = tables.register(Table(
    "unpriced",
    data.unpriced,
    (
        Column("model", "Model", numeric=False),
        Column("provider", "Provider", figures.provider_label, numeric=False),
        Column("requests", "Requests", figures.count),
        Column("unpriced_requests", "Unpriced requests", figures.count),
        Column("unpriced_tokens", "Unpriced tokens", figures.count),
        Column("price_coverage", "Coverage", figures.percent),
    ),
    row_class=lambda r: "warn",
))
BASIS_NOTES = ("no_usage: billed model usage no logged request matches; unknown_model: a usage line naming no model; "
               "not_model_usage: GPU compute, provisioned throughput, other AI services; credit: credits.")


def layout(**query) -> html.Div:
    snap = snapshot_dir()
    bounds = data.day_range(snap)
    if bounds is None:
        return no_data(TITLE)
    filters, note = filters_from_query(bounds, query)
    body = [
        title_row(ids.RECONCILIATION, TITLE, filters.period),
        filter_bar(ids.RECONCILIATION, PATH, filters, bounds,
                   {"provider": figures.provider_options(data.providers(snap))}, note),
    ]
    if data.has_snapshot(snap, "reconciliation"):
        recon = data.reconciliation(snap, filters)
        billed, logged = recon["billed_cost_usd"].sum(), recon["logged_cost_usd"].sum()
        body += [
            html.Div(
                [
                    html.Div([html.Div("Billed for model usage", className="card-label"),
                              html.Div(figures.money(billed), className="card-value",
                                       id=ids.scoped(ids.RECONCILIATION, "billed")),
                              html.Div("USD, billed (cash), usage lines and AI credits", className="card-detail")],
                             className="card headline"),
                    html.Div([html.Div("Priced from the logs", className="card-label"),
                              html.Div(figures.money(logged), className="card-value",
                                       id=ids.scoped(ids.RECONCILIATION, "logged")),
                              html.Div("USD, logged tokens × list prices", className="card-detail")],
                             className="card"),
                    html.Div([html.Div("Difference", className="card-label"),
                              html.Div(figures.money(billed - logged), className="card-value"),
                              html.Div(figures.percent((billed - logged) / billed) + " of the bill" if billed else
                                       "nothing billed", className="card-detail")],
                             className="card warn" if billed and abs(billed - logged) > 0.05 * abs(billed) else "card"),
                ],
                className="cards",
            ),
            html.Div(dcc.Graph(id=ids.chart(ids.RECONCILIATION, "bars"), figure=figures.reconciliation_bars(recon),
                               config={"displaylogo": False, "responsive": True}), className="panel"),
            tables.render(RECON, recon, "Invoice against logs, by provider and month",
                          "USD. The difference is split into parts that add up to it exactly: credits, the "
                          "invoice's discount below list, models the logs could not price, tokens missing from "
                          "the logs or from the invoice, and what is left unexplained."),
        ]
    else:
        body.append(missing("Reconciliation"))
    body.append(html.H2("Spend no task explains"))
    body.append(tables.render(UNATTRIBUTED, data.unattributed(snap, filters), None,
                              "Allocated AI cost (USD) that went to no task. " + BASIS_NOTES)
                if data.has_snapshot(snap, "allocated_cost") else missing("Allocated cost"))
    body.append(html.H2("Requests without a price"))
    body.append(tables.render(UNPRICED, data.unpriced(snap, filters), None,
                              "Their cost is unknown, not $0: add a price override in aispend.yaml to count them."))
    return html.Div(body, className="page")


def register_callbacks(app: dash.Dash) -> None:
    register_filter_callback(app, ids.RECONCILIATION, ["provider"])
