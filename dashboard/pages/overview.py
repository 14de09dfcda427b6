"""Overview: what AI cost in the period as billed, against the period before, the open month's invoice so far
and expected rest, and what the request logs say. Amounts are in the reporting currency (docs/finance.md) but
the per-currency invoice cards, which show each bill as billed."""

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


def _reporting_card(current: pl.DataFrame, previous: pl.DataFrame, period: data.Period, currency: str
                    ) -> html.Div | None:
    """Every currency's bills in the reporting currency, when the invoices are not all in it already (the
    per-currency cards beside it show each bill as billed; those are never added to each other)."""
    currencies = current["billing_currency"].to_list()
    if currencies == [currency] or current["billed_cost_reporting"].null_count():
        return None
    billed, prior = current["billed_cost_reporting"].sum(), previous["billed_cost_reporting"].sum()
    delta = figures.change(billed, prior)
    others = ", ".join(c for c in currencies if c != currency)
    return card(
        f"Billed spend in {currency}",
        figures.money(billed, currency),
        [html.Span(f"billed (cash), every currency in {currency}: bills in {others} at each charge day's rate"),
         html.Span(f"{delta} vs previous {period.days} days ({figures.money(prior, currency)})" if delta
                   else f"previous {period.days} days: {figures.money(prior, currency)}", className="delta")],
        value_id=ids.billed_value("reporting"),
        tone="headline",
    )


def _billed_cards(current: pl.DataFrame, previous: pl.DataFrame, period: data.Period, currency: str
                  ) -> list[html.Div]:
    """One card per billing currency (amounts in two currencies are never added), each with the change, after
    the reporting-currency total when the bills are in several currencies."""
    if current.height == 0:
        return [card("Billed spend", figures.money(0.0, currency), "no billed lines in this period",
                     value_id=ids.billed_value(currency))]
    before = dict(zip(previous["billing_currency"].to_list(), previous["billed_cost"].to_list()))
    total = _reporting_card(current, previous, period, currency)
    out = [total] if total is not None else []
    for row in current.iter_rows(named=True):  # one row per currency
        billing, billed = row["billing_currency"], row["billed_cost"]
        prior = before.get(billing)
        delta = figures.change(billed, prior)
        out.append(
            card(
                "Billed spend" if not out else f"Billed spend, {billing}",
                figures.money(billed, billing),
                [
                    html.Span(f"billed (cash), {billing}"),
                    html.Span(
                        f"{delta} vs previous {period.days} days ({figures.money(prior, billing)})"
                        if delta
                        else f"previous {period.days} days: {figures.money(prior, billing)}",
                        id=ids.previous_value(billing),
                        className="delta",
                    ),
                ],
                value_id=ids.billed_value(billing),
                tone="headline" if not out else "",
            )
        )
    # The AI share of the headline: of every bill in the reporting currency, or of the one currency billed.
    first = current.row(0, named=True)
    ai, billed, shown = ((current["ai_billed_cost_reporting"].sum(), current["billed_cost_reporting"].sum(), currency)
                         if total is not None else (first["ai_billed_cost"], first["billed_cost"],
                                                    first["billing_currency"]))
    out.insert(1, card(
        "AI share of billed spend",
        figures.percent(ai / billed if billed else None),
        f"{figures.money(ai, shown)} of {figures.money(billed, shown)} is AI services and compute",
        value_id=ids.AI_SHARE_VALUE,
    ))
    return out


def _usage_cards(usage: pl.DataFrame, currency: str) -> list[html.Div]:
    if usage.height == 0 or not usage["requests"][0]:
        return [card("Requests logged", "—", "no request logs in this period", value_id=ids.REQUESTS_VALUE)]
    row = usage.row(0, named=True)
    unpriced = row["unpriced_requests"]
    return [
        card("Requests logged", figures.count(row["requests"]), "from the request logs (applications, coding agents)",
             value_id=ids.REQUESTS_VALUE),
        card("Priced cost from logs", figures.money(row["priced_cost_usd"], currency),
             f"{currency}, tokens × list prices (in dollars, converted at each day's rate), priced requests only"
             if currency != "USD" else "USD, tokens × list prices, priced requests only",
             value_id=ids.PRICED_COST_VALUE),
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


MONTH_TO_DATE = tables.register(Table(
    "month_to_date",
    lambda snap, f: data.month_to_date(snap, f.provider),
    (
        Column("provider", "Provider", figures.provider_label, numeric=False),
        Column("invoiced_cost", "Invoiced so far", figures.money),
        Column("uninvoiced_logged_cost", "Logged, not invoiced yet", figures.money),
        Column("ratio", "Invoice ÷ logs", lambda v: "—" if v is None else f"{v:,.2f}"),
        Column("ratio_basis", "Ratio from", lambda v: {"closed_months": "closed months",
                                                        "complete_months": "complete months",
                                                        "none": "no history (1.00)"}.get(v, v or "—"),
               numeric=False),
        Column("expected_rest", "Expected rest (estimate)", figures.money),
        Column("expected_rest_low", "low", figures.money),
        Column("expected_rest_high", "high", figures.money),
    ),
))


def _month_to_date(snap, filters: data.Filters, currency: str) -> list:
    """The open month: invoiced so far and, apart and never added to it, the expected rest with its range."""
    mtd = data.month_to_date(snap, filters.provider)
    if mtd.height == 0:
        return []
    row = mtd.row(0, named=True)
    month = row["month"].strftime("%B %Y")
    sums = {c: mtd[c].sum() for c in ("invoiced_cost", "expected_rest", "expected_rest_low", "expected_rest_high")}
    unknown = mtd["uninvoiced_logged_cost"].null_count()
    return [
        cards([
            card(f"Invoiced so far, {month}", figures.money(sums["invoiced_cost"], currency),
                 [html.Span(f"billed AI lines to {row['as_of']:%-d %b}, {currency}"),
                  html.Span("what the invoices say; nothing estimated", className="delta")],
                 value_id=ids.MTD_INVOICED_VALUE),
            card("Expected rest, not invoiced yet", figures.money(sums["expected_rest"], currency),
                 [html.Span(f"estimate, {currency}: usage the logs recorded that no invoice covers yet, x each "
                            "provider's invoice ÷ logs ratio"),
                  html.Span(f"range {figures.money(sums['expected_rest_low'], currency)} – "
                            f"{figures.money(sums['expected_rest_high'], currency)}; never added to billed"
                            + (f"; {unknown} provider(s) all unpriced" if unknown else ""), className="delta")],
                 value_id=ids.MTD_EXPECTED_VALUE, tone="warn" if sums["expected_rest"] else ""),
        ], row_id=ids.MTD_CARDS),
        tables.render(MONTH_TO_DATE, mtd, f"Month to date by provider, {month}",
                      f"{currency}. Invoiced: billed AI lines so far. Expected rest: the logs' priced cost on days no "
                      "invoice covers yet, scaled by the provider's invoice ÷ logs ratio over its last closed months "
                      "(else its last complete months); low and high use its lowest and highest month. An estimate: "
                      "never added to billed cost, budgets or chargeback (docs/finance.md).", currency=currency),
    ]


def _forecast_cards(snap, filters: data.Filters, currency: str) -> list[html.Div]:
    fc = data.forecast(snap, filters.provider, filters.team)
    if fc.height == 0:
        return [card("Month-end forecast", "—", "no forecast yet (needs the spend_forecast mart)",
                     value_id=ids.FORECAST_VALUE)]
    row = fc.row(0, named=True)
    scope = figures.provider_label(filters.provider) if filters.provider else filters.team or "all AI spend"
    return [
        card(
            f"Month-end forecast, {row['month'].strftime('%B %Y')}",
            figures.money(row["forecast_usd"], currency),
            [html.Span(f"allocated AI cost and seats off the bills, {currency}, {scope}"),
             html.Span(f"range {figures.money(row['forecast_low_usd'], currency)} – "
                       f"{figures.money(row['forecast_high_usd'], currency)}"),
             html.Span(f"{figures.money(row['actual_usd'], currency)} spent to {row['as_of']:%-d %b}",
                       className="delta")],
            value_id=ids.FORECAST_VALUE,
            tone="headline",
        )
    ]


def _seats_card(snap, filters: data.Filters, currency: str) -> html.Div | None:
    """Seats and vendor-billed usage that no loaded bill carries: AI spend beside the invoices, never added to them
    (another basis: plan prices), and counted in budgets and the forecast."""
    if not data.has_snapshot(snap, "person_monthly"):
        return None
    row = data.seats_off_bills(snap, filters).row(0, named=True)
    if row["not_on_bills_usd"] is None:
        return None
    months = (f"{row['first_month']:%b %Y}" if row["first_month"] == row["last_month"]
              else f"{row['first_month']:%b %Y} – {row['last_month']:%b %Y}")
    return card("Seats and subscriptions not on these bills", figures.money(row["not_on_bills_usd"], currency),
                [html.Span(f"{currency} at subscription or list prices, {months} (whole months)"),
                 html.Span("beside billed spend, not in it; budgets and the forecast count it", className="delta")],
                value_id=ids.OVERVIEW_SEATS_VALUE)


def _seats_cards(snap, filters: data.Filters, currency: str) -> list[html.Div]:
    found = _seats_card(snap, filters, currency)
    return [found] if found is not None else []


def _savings_card(snap, filters: data.Filters, currency: str) -> html.Div:
    tasks = data.task_table(snap, filters.period, filters.team)
    if tasks.height == 0:
        return card("Net savings from AI", "—", "no task runs in this period", value_id=ids.NET_SAVINGS_VALUE)
    net = tasks["reported_net_savings_usd"].sum()
    unknown = tasks["reported_net_savings_usd"].null_count()
    measured = tasks.filter(pl.col("roi_basis") == "measured")
    estimated = tasks.filter((pl.col("roi_basis") != "measured") & pl.col("reported_net_savings_usd").is_not_null())
    detail = [
        html.Span(f"{currency}: people's time avoided − allocated AI cost − review time"),
        html.Span([html.Strong(figures.money(measured["reported_net_savings_usd"].sum(), currency)),
                   f" measured from work records ({measured.height} task(s), range "
                   f"{figures.money(measured['measured_net_savings_low_usd'].sum(), currency, decimals=0)} to "
                   f"{figures.money(measured['measured_net_savings_high_usd'].sum(), currency, decimals=0)})"],
                  id=ids.MEASURED_SAVINGS_VALUE),
        html.Span([html.Strong(figures.money(estimated["reported_net_savings_usd"].sum(), currency)),
                   f" estimated from the catalog's minutes ({estimated.height} task(s))"],
                  id=ids.ESTIMATED_SAVINGS_VALUE),
    ]
    if unknown:
        detail.append(html.Span(f"{unknown} task(s) with unknown cost left out"))
    if tasks["human_minutes"].is_null().all():
        detail.append(html.Span("no task here is in the task catalog, so no people's time is valued: this is the "
                                "AI cost alone (task_catalog in aispend.yaml)"))
    return card("Net savings from AI", figures.money(net, currency), detail, value_id=ids.NET_SAVINGS_VALUE,
                tone="headline" if net >= 0 else "warn")


def layout(**query) -> html.Div:
    return PAGE.render(query, _body)


def _invoices(snap, filters: data.Filters, currency: str) -> list:
    """The bills: each currency as billed, every currency in the reporting currency, seats beside them."""
    period, provider = filters.period, filters.provider
    current = data.billed_spend(snap, period, provider)
    previous = data.billed_spend(snap, period.previous(), provider)
    daily = data.daily_billed_by_provider(snap, period, currency, provider)
    converted = [c for c in current["billing_currency"].to_list() if c != currency]
    return [
        html.H2("Invoices"),
        cards(_billed_cards(current, previous, period, currency) + _seats_cards(snap, filters, currency),
              row_id=ids.BILLED_CARDS),
        graph_panel(ids.SPEND_CHART, figures.spend_by_provider(daily, currency)),
        html.P(f"Bills in {', '.join(converted)} are converted to {currency} at each charge day's rate (ECB "
               "reference rates, or the fx_rates file).", className="note") if converted else None,
        html.P("The invoices carry no team: the team filter applies to the request logs, budgets and savings.",
               className="note") if filters.team else None,
    ]


def _body(view: View) -> list:
    snap, filters, currency = view.snap, view.filters, view.currency
    usage = data.usage_summary(snap, filters.period, filters.team, filters.provider)
    budgets = (tables.render(BUDGETS, data.budgets(snap, filters), "Budgets this month",
                             "Allocated AI cost (the invoice where loaded, else priced logs) plus seats and overage no "
                             f"loaded bill carries (People & seats), {currency}, against each configured monthly "
                             "budget.", currency=currency)
               if data.has_snapshot(snap, "budget_status") else missing("Budget status"))
    anomalies = (tables.render(ANOMALIES, data.anomalies(snap, filters), "Anomalies, last 7 days of the period",
                               f"Days whose priced usage cost ({currency}) broke from the usual for that provider, "
                               "model and team (robust median baseline).", currency=currency)
                 if data.has_snapshot(snap, "anomalies") else missing("Anomalies"))
    if data.invoices_loaded(snap):
        first = _invoices(snap, filters, currency)
        last = [html.H2("Request logs"), cards(_usage_cards(usage, currency))]
    else:  # no bill at all (a person's own agent logs, say): the logs' priced cost leads, and the page says so
        priced = data.daily_priced_by_provider(snap, filters.period, filters.team, filters.provider)
        first = [html.H2("Request logs"), cards(_usage_cards(usage, currency) + _seats_cards(snap, filters, currency)),
                 graph_panel(ids.SPEND_CHART, figures.priced_by_provider(priced, currency)), no_invoices(ids.OVERVIEW)]
        last = []
    return [
        *first,
        html.H2("This month and the return on AI"),
        *_month_to_date(snap, filters, currency),
        cards(_forecast_cards(snap, filters, currency) + [_savings_card(snap, filters, currency)]),
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
