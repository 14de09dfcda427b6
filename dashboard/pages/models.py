"""Models: what a token really cost per model (effective rate, token mix), and what moving work would save."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import data, figures, ids, tables
from dashboard.pages import filter_bar, filters_from_query, missing, no_data, register_filter_callback, snapshot_dir, title_row
from dashboard.model_tables import MODEL_USAGE, WHATIF

PATH = "/models"
TITLE = "Models"

dash.register_page(__name__, path=PATH, name=TITLE, title="aispend: models", order=2)


def layout(**query) -> html.Div:
    snap = snapshot_dir()
    bounds = data.day_range(snap)
    if bounds is None:
        return no_data(TITLE)
    filters, note = filters_from_query(bounds, query)
    models = data.model_usage(snap, filters)
    choices = {"provider": figures.provider_options(data.providers(snap)), "team": data.teams(snap),
               "task": data.task_names(snap)}
    body = [
        title_row(ids.MODELS, TITLE, filters.period),
        filter_bar(ids.MODELS, PATH, filters, bounds, choices, note),
        html.Div(
            [
                html.Div(dcc.Graph(id=ids.chart(ids.MODELS, "rate"), figure=figures.usd_per_mtok(models),
                                   config={"displaylogo": False, "responsive": True}), className="panel"),
                html.Div(dcc.Graph(id=ids.chart(ids.MODELS, "mix"), figure=figures.token_mix(models),
                                   config={"displaylogo": False, "responsive": True}), className="panel"),
            ],
            className="two-up",
        ),
        tables.render(MODEL_USAGE, models, "Usage and effective rate by model",
                      "Priced cost from the logs, USD. Effective rate = priced cost ÷ priced tokens × 1M, so it "
                      "reflects this period's token mix (cache reads are cheap, output is dear). Unpriced requests "
                      "are not counted as $0; their tokens are left out of the rate."),
        html.H2("What-if: the same work on another model"),
    ]
    if data.has_snapshot(snap, "model_whatif"):
        whatif = data.whatif(snap, filters)
        body += [
            html.Div(dcc.Graph(id=ids.chart(ids.MODELS, "whatif"), figure=figures.whatif_bars(whatif),
                               config={"displaylogo": False, "responsive": True}), className="panel"),
            tables.render(WHATIF, whatif, None,
                          "Each task's own tokens repriced at the other model's price on the day they were used "
                          "(priced usage, USD, over everything loaded, not only this period). The observed "
                          "success rate shows whether the cheaper model did the job when it was tried.", max_rows=25),
        ]
    else:
        body.append(missing("The what-if table (model_whatif)"))
    return html.Div(body, className="page")


def register_callbacks(app: dash.Dash) -> None:
    register_filter_callback(app, ids.MODELS, ["provider", "team", "task"])
