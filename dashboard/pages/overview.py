"""Overview: what AI cost in the period as billed, against the period before, and what the request logs say."""

from __future__ import annotations

import dash
import polars as pl
from dash import html

from dashboard import data, figures, ids, tables
from dashboard.components import card, cards, graph_panel, missing, no_invoices
from dashboard.pages import Page, View
from dashboard.tables import Column, Table

PAGE = Page(ids.OVERVIEW, "/", "Overview", ("provider", "team"))

dash.register_page(__name__, path=PAGE.path, name=PAGE.title, title="aispend: overview", order=0)


def _billed_cards(current: pl.DataFrame, previous: pl.DataFrame, period: data.Period) -> list[html.Div]:
    """One headline per billing currency (currencies are never added), each with the AI share and the change."""
    if current.height == 0:
        return [card("Billed spend", figures.money(0.0), "no billed lines in this period",
                     value_id=ids.billed_value("USD"))]
    before = dict(zip(previous["billing_currency"].to_list(), previous["billed_cost"].to_list()))
    out = []
    for row in current.iter_rows(named=True):  # one row per currency
        currency, billed, ai = row["billing_currency"], row["billed_cost"], row["ai_billed_cost"]
        prior = before.get(currency)
        delta = figures.change(billed, prior)
        out.append(
            card(
                "Billed spend" if not out else f"Billed spend, {currency}",
                figures.money(billed, currency),
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
                value_id=ids.billed_value(currency),
                tone="headline" if not out else "",
            )
        )
        if len(out) == 1:
            share = ai / billed if billed else None
            out.append(
                card(
                    "AI share of billed spend",
                    figures.percent(share),
                    f"{figures.money(ai, currency)} of {figures.money(billed, currency)} is AI services and compute",
                    value_id=ids.AI_SHARE_VALUE,
                )
            )
    return out


def _usage_cards(usage: pl.DataFrame) -> list[html.Div]:
    if usage.height == 0 or not usage["requests"][0]:
        return [card("Requests logged", "—", "no request logs in this period", value_id=ids.REQUESTS_VALUE)]
    row = usage.row(0, named=True)
    unpriced = row["unpriced_requests"]
    return [
        card("Requests logged", figures.count(row["requests"]), "from the request logs (applications, coding agents)",
             value_id=ids.REQUESTS_VALUE),
        card("Priced cost from logs", figures.money(row["priced_cost_usd"]),
             "USD, tokens × list prices, priced requests only", value_id=ids.PRICED_COST_VALUE),
        card(
            "Price coverage",
            figures.percent(row["price_coverage"]),
            f"{figures.count(unpriced)} requests have no known price; they are NOT counted as $0"
            if unpriced
            else "every request in the period has a price",
            value_id=ids.COVERAGE_VALUE,
            tone="warn" if unpriced else "",
        ),
    ]


BUDGETS = tables.register(Table(
    "budgets",
    data.budgets,
    (
        Column("budget", "Budget", numeric=False),
        Column("monthly_usd", "Monthly budget", figures.money),
        Column("actual_usd", "Spent this month", figures.money),
        Column("actual_pct", "% used", lambda v: "—" if v is None else f"{v:,.0f}%"),
        Column("forecast_usd", "Month-end forecast", figures.money),
        Column("forecast_pct", "Forecast %", lambda v: "—" if v is None else f"{v:,.0f}%"),
        Column("status", "Status", numeric=False),
    ),
    row_class=lambda r: {"over": "loss", "warning": "warn"}.get(r["status"]),
))
ANOMALIES = tables.register(Table(
    "anomalies",
    data.anomalies,
    (
        Column("day", "Day", numeric=False),
        Column("provider", "Provider", figures.provider_label, numeric=False),
        Column("model", "Model", numeric=False),
        Column("team", "Team", numeric=False),
        Column("direction", "", numeric=False),
        Column("cost_usd", "Priced cost", figures.money),
        Column("baseline_usd", "Usual (median)", figures.money),
        Column("change_usd", "Change", figures.money),
    ),
    row_class=lambda r: "loss" if r["direction"] == "spike" else None,
))


def _forecast_cards(snap, filters: data.Filters) -> list[html.Div]:
    fc = data.forecast(snap, filters.provider, filters.team)
    if fc.height == 0:
        return [card("Month-end forecast", "—", "no forecast yet (needs the spend_forecast mart)",
                     value_id=ids.FORECAST_VALUE)]
    row = fc.row(0, named=True)
    scope = figures.provider_label(filters.provider) if filters.provider else filters.team or "all AI spend"
    return [
        card(
            f"Month-end forecast, {row['month'].strftime('%B %Y')}",
            figures.money(row["forecast_usd"]),
            [html.Span(f"allocated AI cost and seats off the bills, USD, {scope}"),
             html.Span(f"range {figures.money(row['forecast_low_usd'])} – {figures.money(row['forecast_high_usd'])}"),
             html.Span(f"{figures.money(row['actual_usd'])} spent to {row['as_of']:%-d %b}", className="delta")],
            value_id=ids.FORECAST_VALUE,
            tone="headline",
        )
    ]


def _seats_card(snap, filters: data.Filters) -> html.Div | None:
    """Seats and vendor-billed usage that no loaded bill carries: AI spend beside the invoices, never added to them
    (another basis: plan prices), and counted in budgets and the forecast."""
    if not data.has_snapshot(snap, "person_monthly"):
        return None
    row = data.seats_off_bills(snap, filters).row(0, named=True)
    if row["not_on_bills_usd"] is None:
        return None
    months = (f"{row['first_month']:%b %Y}" if row["first_month"] == row["last_month"]
              else f"{row['first_month']:%b %Y} – {row['last_month']:%b %Y}")
    return card("Seats and subscriptions not on these bills", figures.money(row["not_on_bills_usd"]),
                [html.Span(f"USD at subscription or list prices, {months} (whole months)"),
                 html.Span("beside billed spend, not in it; budgets and the forecast count it", className="delta")],
                value_id=ids.OVERVIEW_SEATS_VALUE)


def _seats_cards(snap, filters: data.Filters) -> list[html.Div]:
    found = _seats_card(snap, filters)
    return [found] if found is not None else []


def _savings_card(snap, filters: data.Filters) -> html.Div:
    tasks = data.task_table(snap, filters.period, filters.team)
    if tasks.height == 0:
        return card("Net savings from AI", "—", "no task runs in this period", value_id=ids.NET_SAVINGS_VALUE)
    net = tasks["reported_net_savings_usd"].sum()
    unknown = tasks["reported_net_savings_usd"].null_count()
    measured = tasks.filter(pl.col("roi_basis") == "measured")
    estimated = tasks.filter((pl.col("roi_basis") != "measured") & pl.col("reported_net_savings_usd").is_not_null())
    detail = [
        html.Span("USD: people's time avoided − allocated AI cost − review time"),
        html.Span([html.Strong(figures.money(measured["reported_net_savings_usd"].sum())),
                   f" measured from work records ({measured.height} task(s), range "
                   f"{figures.money(measured['measured_net_savings_low_usd'].sum(), decimals=0)} to "
                   f"{figures.money(measured['measured_net_savings_high_usd'].sum(), decimals=0)})"],
                  id=ids.MEASURED_SAVINGS_VALUE),
        html.Span([html.Strong(figures.money(estimated["reported_net_savings_usd"].sum())),
                   f" estimated from the catalog's minutes ({estimated.height} task(s))"],
                  id=ids.ESTIMATED_SAVINGS_VALUE),
    ]
    if unknown:
        detail.append(html.Span(f"{unknown} task(s) with unknown cost left out"))
    if tasks["human_minutes"].is_null().all():
        detail.append(html.Span("no task here is in the task catalog, so no people's time is valued: this is the "
                                "AI cost alone (task_catalog in aispend.yaml)"))
    return card("Net savings from AI", figures.money(net), detail, value_id=ids.NET_SAVINGS_VALUE,
                tone="headline" if net >= 0 else "warn")


def layout(**query) -> html.Div:
    return PAGE.render(query, _body)


def _invoices(snap, filters: data.Filters) -> list:
    period, provider = filters.period, filters.provider
    current = data.billed_spend(snap, period, provider)
    previous = data.billed_spend(snap, period.previous(), provider)
    currency = current["billing_currency"][0] if current.height else "USD"
    daily = data.daily_billed_by_provider(snap, period, currency, provider)
    return [
        html.H2("Invoices"),
        cards(_billed_cards(current, previous, period) + _seats_cards(snap, filters), row_id=ids.BILLED_CARDS),
        graph_panel(ids.SPEND_CHART, figures.spend_by_provider(daily, currency)),
        html.P("The invoices carry no team: the team filter applies to the request logs, budgets and savings.",
               className="note") if filters.team else None,
    ]


def _body(view: View) -> list:
    snap, filters = view.snap, view.filters
    usage = data.usage_summary(snap, filters.period, filters.team, filters.provider)
    budgets = (tables.render(BUDGETS, data.budgets(snap, filters), "Budgets this month",
                             "Allocated AI cost (the invoice where loaded, else priced logs) plus seats and overage no loaded bill "
                             "carries (People & seats), USD, against each configured monthly budget.")
               if data.has_snapshot(snap, "budget_status") else missing("Budget status"))
    anomalies = (tables.render(ANOMALIES, data.anomalies(snap, filters), "Anomalies, last 7 days of the period",
                               "Days whose priced usage cost (USD) broke from the usual for that provider, model "
                               "and team (robust median baseline).")
                 if data.has_snapshot(snap, "anomalies") else missing("Anomalies"))
    if data.invoices_loaded(snap):
        first, last = _invoices(snap, filters), [html.H2("Request logs"), cards(_usage_cards(usage))]
    else:  # no bill at all (a person's own agent logs, say): the logs' priced cost leads, and the page says so
        priced = data.daily_priced_by_provider(snap, filters.period, filters.team, filters.provider)
        first = [html.H2("Request logs"), cards(_usage_cards(usage) + _seats_cards(snap, filters)),
                 graph_panel(ids.SPEND_CHART, figures.priced_by_provider(priced)), no_invoices(ids.OVERVIEW)]
        last = []
    return [
        *first,
        html.H2("This month and the return on AI"),
        cards(_forecast_cards(snap, filters) + [_savings_card(snap, filters)]),
        budgets,
        anomalies,
        *last,
        html.P(
            "Billed cost is cash as invoiced; amortized (effective) cost is never added to it. Priced cost is "
            "what the logged tokens cost at list prices, so it can differ from the invoices. Allocated cost "
            "is the invoice's AI cost shared out to tasks and teams by their usage.",
            className="note",
        ),
    ]


def register_callbacks(app: dash.Dash) -> None:
    PAGE.register_filter_callback(app)
