"""Layout pieces the pages repeat: headline cards, chart panels, the title row and the "No data yet" states.

One builder each, so a card or a chart looks and behaves the same on every page (docs/dashboard.md: every chart
names its cost and currency; a missing snapshot shows "No data yet" for that part, and nothing errors). They
take values already computed and formatted; data comes from dashboard.data, figures from dashboard.figures.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids
from dashboard.data import Period

GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def card(label: str, value: str, detail: list | str | None = None, *, value_id: str | None = None,
         tone: str = "") -> html.Div:
    """A headline figure: label, value (with an id when tests or callbacks look it up), detail; `tone` is
    'headline' or 'warn' (the card's top border)."""
    value_props = {"id": value_id} if value_id else {}
    return html.Div(
        [
            html.Div(label, className="card-label"),
            html.Div(value, className="card-value", **value_props),
            html.Div(detail, className="card-detail") if detail else None,
        ],
        className=f"card {tone}".strip(),
    )


def cards(items: list[html.Div], row_id: str | None = None) -> html.Div:
    """A row of cards."""
    return html.Div(items, className="cards", **({"id": row_id} if row_id else {}))


def graph_panel(graph_id: str, figure) -> html.Div:
    """A chart in a panel (the figure from dashboard.figures)."""
    return html.Div(dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG), className="panel")


def period_label(period: Period) -> str:
    """'2 Mar – 31 Mar 2026 (30 days)'."""
    same_year = period.start.year == period.end.year
    start = period.start.strftime("%-d %b" if same_year else "%-d %b %Y")
    days = "1 day" if period.days == 1 else f"{period.days} days"
    return f"{start} – {period.end.strftime('%-d %b %Y')} ({days})"


def title_row(page: str, title: str, period: Period | None, extra=None) -> html.Div:
    label = html.Span(period_label(period), id=ids.scoped(page, ids.PERIOD_LABEL), className="period") if period else None
    return html.Div([html.H1(title), label, extra], className="title-row")


def no_data(page_title: str) -> html.Div:
    """The whole page before the pipeline has published its first snapshot."""
    return html.Div(
        [
            html.H1(page_title),
            html.Div(
                [
                    html.H2("No data yet"),
                    html.P(["Run ", html.Code("aispend run --config aispend.yaml"), " to load your sources; "
                            "this page fills in as soon as the pipeline publishes its first snapshot."]),
                    html.P(["Or try ", html.Code("aispend demo"), " for realistic example data."],
                           className="muted"),
                ],
                id=ids.EMPTY,
                className="empty",
            ),
        ],
        className="page",
    )


def missing(what: str) -> html.Div:
    """A friendly note where one snapshot is not there yet (the rest of the page still renders)."""
    return html.Div(
        [html.Strong("No data yet. "), f"{what} appears after the pipeline publishes it (",
         html.Code("aispend run --config aispend.yaml"), ")."],
        className="empty small-empty",
    )


def no_invoices(page: str) -> html.Div:
    """Where invoices would show, when none is loaded (a person's own agent logs come with none): say so, and
    what the figures rest on instead, rather than a $0 that reads as "nothing spent"."""
    return html.Div(
        [html.Strong("No invoices loaded. "),
         "aispend has read no bills (FOCUS or CUR exports, the OpenAI or Anthropic cost APIs), so nothing here is "
         "billed cash: the figures are the request logs priced at list prices, what the same calls cost through "
         "the API. Add a cost source to your config to see billed spend and reconcile it (docs/sources/)."],
        id=ids.scoped(page, ids.NO_INVOICES),
        className="empty small-empty",
    )
