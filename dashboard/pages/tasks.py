"""Tasks: per task, what the AI cost against the people's time it saved, and which tasks lose money."""

from __future__ import annotations

from datetime import date

import dash
import polars as pl
from dash import Input, Output, State, dcc, html

from dashboard import data, figures, ids
from dashboard.pages import filter_bar, no_data, period_label, register_filter_callback, resolve_period, snapshot_dir

PATH = "/tasks"
TITLE = "Tasks"

dash.register_page(__name__, path=PATH, name=TITLE, title="aispend: tasks", order=1)

# (column, header, formatter); money is USD throughout this page.
COLUMNS = [
    ("runs", "Runs", figures.count),
    ("successes", "Successes", figures.count),
    ("success_rate", "Success rate", figures.percent),
    ("ai_cost_usd", "AI cost", figures.money),
    ("cost_per_success_usd", "Cost / success", figures.money),
    ("human_cost_avoided_usd", "Human cost avoided", figures.money),
    ("review_cost_usd", "Review cost", figures.money),
    ("net_savings_usd", "Net savings", figures.money),
    ("roi", "ROI", lambda v: figures.percent(v, 0)),
]


def _row(task: dict) -> html.Tr:
    net = task["net_savings_usd"]
    losing = net is not None and net < 0
    name = [html.Div(task["task"], className="task-name")]
    if task["description"]:
        name.append(html.Div(task["description"], className="task-desc"))
    if losing:
        name.append(html.Span("loses money", className="badge loss"))
    if task["ai_cost_usd"] is None:
        name.append(html.Span("cost unknown: no priced requests", className="badge unknown"))
    cells = [html.Td(name)] + [html.Td(fmt(task[col]), className="num") for col, _, fmt in COLUMNS]
    return html.Tr(cells, className="loss" if losing else None, **{"data-task": task["task"]})


def task_table(tasks: pl.DataFrame) -> html.Table:
    header = html.Tr([html.Th("Task")] + [html.Th(label, className="num") for _, label, _ in COLUMNS])
    return html.Table(
        [html.Thead(header), html.Tbody([_row(t) for t in tasks.iter_rows(named=True)])],
        id=ids.TASK_TABLE,
        className="table",
    )


def _summary(tasks: pl.DataFrame) -> html.Div:
    net = tasks["net_savings_usd"].sum()
    losing = tasks.filter(pl.col("net_savings_usd") < 0).height
    unpriced = tasks["unpriced_requests"].sum()
    return html.Div(
        [
            html.Div([html.Div("Net savings, all tasks", className="card-label"),
                      html.Div(figures.money(net), className="card-value"),
                      html.Div("USD, tasks with a known cost", className="card-detail")],
                     className="card headline"),
            html.Div([html.Div("Tasks losing money", className="card-label"),
                      html.Div(str(losing), className="card-value"),
                      html.Div("AI cost plus review time exceed the people's time saved", className="card-detail")],
                     className="card warn" if losing else "card"),
            html.Div([html.Div("Unpriced requests", className="card-label"),
                      html.Div(figures.count(unpriced), className="card-value"),
                      html.Div("left out of AI cost (not counted as $0)", className="card-detail")],
                     className="card warn" if unpriced else "card"),
        ],
        className="cards",
    )


def layout(start: str | None = None, end: str | None = None, team: str | None = None, **_query) -> html.Div:
    snap = snapshot_dir()
    bounds = data.day_range(snap)
    if bounds is None:
        return no_data(TITLE)
    period, note = resolve_period(bounds, start, end)
    tasks = data.task_table(snap, period, team)
    body = [
        html.Div(
            [html.H1(TITLE), html.Span(period_label(period), id=ids.scoped(ids.TASKS, ids.PERIOD_LABEL),
                                       className="period")],
            className="title-row",
        ),
        filter_bar(ids.TASKS, PATH, period, bounds, "Team", "team", team, data.teams(snap), note),
        dcc.Store(id=ids.TASK_PERIOD, data={"start": period.start.isoformat(), "end": period.end.isoformat(),
                                            "team": team}),
    ]
    if tasks.height == 0:
        body.append(html.Div("No task runs in this period.", className="empty"))
        return html.Div(body, className="page")
    body += [
        _summary(tasks),
        html.Div(dcc.Graph(id=ids.TASK_CHART, figure=figures.net_savings_bars(tasks),
                           config={"displaylogo": False, "responsive": True}), className="panel"),
        html.Div(
            [
                html.Div(
                    [
                        html.P(
                            "AI cost counts priced requests only: unpriced requests are left out, not counted as "
                            "$0. Human cost avoided = successes × human minutes × hourly rate; review cost = runs "
                            "× review minutes × hourly rate; ROI = net savings ÷ (AI cost + review cost).",
                            className="note",
                        ),
                        html.Button("Download CSV", id=ids.DOWNLOAD_BUTTON, className="button"),
                        dcc.Download(id=ids.DOWNLOAD),
                    ],
                    className="table-head",
                ),
                html.Div(task_table(tasks), className="table-wrap"),
            ],
            className="panel",
        ),
    ]
    return html.Div(body, className="page")


def register_callbacks(app: dash.Dash) -> None:
    register_filter_callback(app, ids.TASKS, "team")

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.TASK_PERIOD, "data"),
        prevent_initial_call=True,
    )
    def _download(_clicks, view):
        period = data.Period(date.fromisoformat(view["start"]), date.fromisoformat(view["end"]))
        frame = data.task_table(snapshot_dir(), period, view.get("team"))
        name = f"aispend-tasks-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        return dcc.send_string(frame.write_csv(), name)
