"""Reconciliation: the invoices against the logs, the gap in named parts, and the spend no task or price explains."""

from __future__ import annotations

import dash
from dash import html

from dashboard import data, figures, ids, tables
from dashboard.components import card, cards, graph_panel, missing, no_invoices
from dashboard.pages import Page, View
from dashboard.tables import Column, Table

PAGE = Page(ids.RECONCILIATION, "/reconciliation", "Reconciliation", ("provider",))

dash.register_page(__name__, path=PAGE.path, name=PAGE.title, title="aispend: reconciliation", order=3)

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


def _cards(recon, currency: str) -> html.Div:
    billed, logged = recon["billed_cost_usd"].sum(), recon["logged_cost_usd"].sum()
    return cards([
        card("Billed for model usage", figures.money(billed, currency),
             f"{currency}, billed (cash), usage lines and AI credits, every currency converted",
             value_id=ids.scoped(ids.RECONCILIATION, "billed"), tone="headline"),
        card("Priced from the logs", figures.money(logged, currency), f"{currency}, logged tokens × list prices",
             value_id=ids.scoped(ids.RECONCILIATION, "logged")),
        card("Difference", figures.money(billed - logged, currency),
             figures.percent((billed - logged) / billed) + " of the bill" if billed else "nothing billed",
             tone="warn" if billed and abs(billed - logged) > 0.05 * abs(billed) else ""),
    ])


def layout(**query) -> html.Div:
    return PAGE.render(query, _body)


def _body(view: View) -> list:
    snap, filters, currency = view.snap, view.filters, view.currency
    if not data.invoices_loaded(snap):
        invoices = [no_invoices(ids.RECONCILIATION)]  # nothing to reconcile the logs against
    elif data.has_snapshot(snap, "reconciliation"):
        recon = data.reconciliation(snap, filters)
        invoices = [
            _cards(recon, currency),
            graph_panel(ids.chart(ids.RECONCILIATION, "bars"), figures.reconciliation_bars(recon, currency)),
            tables.render(RECON, recon, "Invoice against logs, by provider and month",
                          f"{currency}. The difference is split into parts that add up to it exactly: credits, the "
                          "invoice's discount below list, models the logs could not price, tokens missing from "
                          "the logs or from the invoice, and what is left unexplained.", currency=currency),
        ]
    else:
        invoices = [missing("Reconciliation")]
    return [
        *invoices,
        html.H2("Spend no task explains"),
        tables.render(UNATTRIBUTED, data.unattributed(snap, filters), None,
                      f"Allocated AI cost ({currency}) that went to no task. " + BASIS_NOTES, currency=currency)
        if data.has_snapshot(snap, "allocated_cost") else missing("Allocated cost"),
        html.H2("Requests without a price"),
        tables.render(UNPRICED, data.unpriced(snap, filters), None,
                      "Their cost is unknown, not $0: add a price override in aispend.yaml to count them."),
    ]


def register_callbacks(app: dash.Dash) -> None:
    PAGE.register_filter_callback(app)
