"""Overview: what AI cost in the period as billed, against the period before, and what the request logs say."""

from __future__ import annotations

import dash
import polars as pl
from dash import dcc, html

from dashboard import data, figures, ids
from dashboard.pages import filter_bar, no_data, period_label, register_filter_callback, resolve_period, snapshot_dir

PATH = "/"
TITLE = "Overview"

dash.register_page(__name__, path=PATH, name=TITLE, title="aispend: overview", order=0)


def _card(label: str, value: str, value_id: str, detail: list | str | None = None, tone: str = "") -> html.Div:
    return html.Div(
        [
            html.Div(label, className="card-label"),
            html.Div(value, id=value_id, className="card-value"),
            html.Div(detail, className="card-detail") if detail else None,
        ],
        className=f"card {tone}".strip(),
    )


def _billed_cards(current: pl.DataFrame, previous: pl.DataFrame, period: data.Period) -> list[html.Div]:
    """One headline per billing currency (currencies are never added), each with the AI share and the change."""
    if current.height == 0:
        return [_card("Billed spend", figures.money(0.0), ids.billed_value("USD"), "no billed lines in this period")]
    before = dict(zip(previous["billing_currency"].to_list(), previous["billed_cost"].to_list()))
    cards = []
    for row in current.iter_rows(named=True):  # one row per currency
        currency, billed, ai = row["billing_currency"], row["billed_cost"], row["ai_billed_cost"]
        prior = before.get(currency)
        delta = figures.change(billed, prior)
        cards.append(
            _card(
                "Billed spend" if not cards else f"Billed spend, {currency}",
                figures.money(billed, currency),
                ids.billed_value(currency),
                [
                    html.Span(f"billed (cash), {currency}"),
                    html.Span(
                        f"{delta} vs previous {period.days} days ({figures.money(prior, currency)})"
                        if delta
                        else f"previous {period.days} days: {figures.money(prior, currency)}",
                        id=ids.previous_value(currency),
                        className="delta",
                    ),
                ],
                tone="headline" if not cards else "",
            )
        )
        if len(cards) == 1:
            share = ai / billed if billed else None
            cards.append(
                _card(
                    "AI share of billed spend",
                    figures.percent(share),
                    ids.AI_SHARE_VALUE,
                    f"{figures.money(ai, currency)} of {figures.money(billed, currency)} is AI services and compute",
                )
            )
    return cards


def _usage_cards(usage: pl.DataFrame) -> list[html.Div]:
    if usage.height == 0 or not usage["requests"][0]:
        return [_card("Requests logged", "—", ids.REQUESTS_VALUE, "no request logs in this period")]
    row = usage.row(0, named=True)
    unpriced = row["unpriced_requests"]
    return [
        _card("Requests logged", figures.count(row["requests"]), ids.REQUESTS_VALUE, "from the application logs"),
        _card(
            "Priced cost from logs",
            figures.money(row["priced_cost_usd"]),
            ids.PRICED_COST_VALUE,
            "USD, tokens × list prices, priced requests only",
        ),
        _card(
            "Price coverage",
            figures.percent(row["price_coverage"]),
            ids.COVERAGE_VALUE,
            f"{figures.count(unpriced)} requests have no known price; they are NOT counted as $0"
            if unpriced
            else "every request in the period has a price",
            tone="warn" if unpriced else "",
        ),
    ]


def layout(start: str | None = None, end: str | None = None, provider: str | None = None, **_query) -> html.Div:
    snap = snapshot_dir()
    bounds = data.day_range(snap)
    if bounds is None:
        return no_data(TITLE)
    period, note = resolve_period(bounds, start, end)
    current = data.billed_spend(snap, period, provider)
    previous = data.billed_spend(snap, period.previous(), provider)
    currency = current["billing_currency"][0] if current.height else "USD"
    daily = data.daily_billed_by_provider(snap, period, currency, provider)
    usage = data.usage_summary(snap, period)
    return html.Div(
        [
            html.Div(
                [html.H1(TITLE), html.Span(period_label(period), id=ids.scoped(ids.OVERVIEW, ids.PERIOD_LABEL),
                                           className="period")],
                className="title-row",
            ),
            filter_bar(ids.OVERVIEW, PATH, period, bounds, "Provider", "provider", provider,
                       data.providers(snap), note),
            html.H2("Invoices"),
            html.Div(_billed_cards(current, previous, period), id=ids.BILLED_CARDS, className="cards"),
            html.Div(
                dcc.Graph(id=ids.SPEND_CHART, figure=figures.spend_by_provider(daily, currency),
                          config={"displaylogo": False, "responsive": True}),
                className="panel",
            ),
            html.H2(["Request logs", html.Span(" all providers", className="muted small")]),
            html.Div(_usage_cards(usage), className="cards"),
            html.P(
                "Billed cost is cash as invoiced; amortized (effective) cost is never added to it. Priced cost is "
                "what the logged tokens cost at list prices, so it can differ from the invoices.",
                className="note",
            ),
        ],
        className="page",
    )


def register_callbacks(app: dash.Dash) -> None:
    register_filter_callback(app, ids.OVERVIEW, "provider")
