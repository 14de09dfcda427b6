"""Models: what a token really cost per model (effective rate, token mix), and what moving work would save."""

from __future__ import annotations

import dash
from dash import html

from dashboard import data, figures, ids, tables
from dashboard.components import graph_panel, missing
from dashboard.model_tables import MODEL_USAGE, WHATIF
from dashboard.pages import Page, View

PAGE = Page(ids.MODELS, "/models", "Models", ("provider", "team", "task"))

dash.register_page(__name__, path=PAGE.path, name=PAGE.title, title="aispend: models", order=2)


def layout(**query) -> html.Div:
    return PAGE.render(query, _body)


def _body(view: View) -> list:
    snap, filters, currency = view.snap, view.filters, view.currency
    models = data.model_usage(snap, filters)
    body = [
        html.Div(
            [
                graph_panel(ids.chart(ids.MODELS, "rate"), figures.usd_per_mtok(models, currency)),
                graph_panel(ids.chart(ids.MODELS, "mix"), figures.token_mix(models)),
            ],
            className="two-up",
        ),
        tables.render(MODEL_USAGE, models, "Usage and effective rate by model",
                      f"Priced cost from the logs, {currency}. Effective rate = priced cost ÷ priced tokens × 1M, so "
                      "it reflects this period's token mix (cache reads are cheap, output is dear). Unpriced "
                      "requests are not counted as $0; their tokens are left out of the rate.", currency=currency),
        html.H2("What-if: the same work on another model"),
    ]
    if data.has_snapshot(snap, "model_whatif"):
        whatif = data.whatif(snap, filters)
        body += [
            graph_panel(ids.chart(ids.MODELS, "whatif"), figures.whatif_bars(whatif, currency=currency)),
            tables.render(WHATIF, whatif, None,
                          "Each task's own tokens repriced at the other model's price on the day they were used "
                          f"(priced usage, {currency}, over everything loaded, not only this period). The observed "
                          "success rate shows whether the cheaper model did the job when it was tried.", max_rows=25,
                          currency=currency),
        ]
    else:
        body.append(missing("The what-if table (model_whatif)"))
    return body


def register_callbacks(app: dash.Dash) -> None:
    PAGE.register_filter_callback(app)
