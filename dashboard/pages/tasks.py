"""Tasks: per task, what the AI cost against the people's time it saved, which tasks lose money, and a drill
into one task (its models, its trend, its cost per success)."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import data, figures, ids, tables
from dashboard.components import card, cards, graph_panel
from dashboard.model_tables import MODEL_USAGE, WHATIF
from dashboard.pages import Page, View, search
from dashboard.tables import Column, Table
from pipelines.schemas import UNATTRIBUTED

PAGE = Page(ids.TASKS, "/tasks", "Tasks", ("team", "task"))

dash.register_page(__name__, path=PAGE.path, name=PAGE.title, title="aispend: tasks", order=1)


def _task_rows(snap, filters: data.Filters):
    return data.task_table(snap, filters.period, filters.team)


TASKS_TABLE = tables.register(Table(
    "tasks",
    _task_rows,
    (
        Column("task", "Task", numeric=False),
        Column("runs", "Runs", figures.count),
        Column("success_rate", "Success rate", figures.percent),
        Column("allocated_cost_usd", "AI cost (allocated)", figures.money),
        Column("allocated_cost_per_success_usd", "Cost / success", figures.money),
        Column("ai_cost_usd", "AI cost (logs, priced)", figures.money),
        Column("reported_human_cost_avoided_usd", "Human cost avoided", figures.money),
        Column("review_cost_usd", "Review cost", figures.money),
        Column("reported_net_savings_usd", "Net savings", figures.money),
        Column("reported_roi", "ROI", lambda v: figures.percent(v, 0)),
    ),
    row_class=lambda r: "loss" if _loses_money(r) else None,
))


def _loses_money(row: dict) -> bool:
    """AI cost and review exceed the people's time saved, for a catalog task or for requests that named no task.
    A named task the catalog does not value (`coding_agent` from a person's agent logs, with no catalog) saves
    nothing by definition: its cost is shown, but calling it a loss would judge work nobody priced."""
    return bool(row["loses_money"]) and (row["human_minutes"] is not None or row["task"] == UNATTRIBUTED
                                         or row["roi_basis"] == "measured")


def _task_link(row: dict, filters: data.Filters) -> html.Td:
    href = PAGE.path + search(filters.period, team=filters.team, task=row["task"])
    name = [dcc.Link(row["task"], href=href, className="task-name")]
    if row["description"]:
        name.append(html.Div(row["description"], className="task-desc"))
    measured = row["roi_basis"] == "measured"
    name.append(html.Span("measured" if measured else "estimate", className=f"badge basis {row['roi_basis']}",
                          title="net savings from work records (docs/evidence.md)" if measured
                          else "net savings from the catalog's human minutes: an estimate"))
    if _loses_money(row):
        name.append(html.Span("loses money", className="badge loss"))
    elif row["human_minutes"] is None and row["task"] != UNATTRIBUTED and not measured:
        name.append(html.Span("no time valued", className="badge unknown"))
    name.append(html.Div(_minutes_note(row), className="task-desc minutes-note"))
    if row["allocated_cost_usd"] is None:
        name.append(html.Span("on no loaded invoice: see the logs' priced cost" if row["ai_cost_usd"] is not None
                              else "cost unknown: nothing priced or billed", className="badge unknown"))
    return html.Td(name)


def _minutes_note(row: dict) -> str:
    """What a run saves, measured or as the catalog says, beside what it must save to pay for itself."""
    if row["roi_basis"] == "measured":
        saved = f"measured {row['measured_minutes_saved']:,.1f} min saved per item"
    elif row["human_minutes"] is not None:
        saved = f"catalog: {row['human_minutes']:,.1f} min per run"
    else:
        saved = "not in the catalog"
    even = row["break_even_minutes"]
    return saved + ("" if even is None else f"; break-even {even:,.1f} min per run")


def task_table(frame, filters: data.Filters, currency: str = data.DEFAULT_CURRENCY) -> html.Div:
    """The ROI table: the generic table, with the task cell made a drill-down link and rows keyed by task."""
    return tables.render(
        TASKS_TABLE, frame, None,
        "AI cost (allocated) is the invoice's AI cost shared to tasks by usage (the logs' priced cost where no "
        "invoice is loaded); unpriced requests are left out, not counted as $0. Human cost avoided is measured where "
        "work records measure the task (the period's AI-assisted items × measured minutes saved × hourly rate; see "
        "the Evidence page; below zero where they took longer), else the catalog's estimate (successes × human "
        "minutes × hourly rate; marked \"estimate\"). Review cost = runs × review minutes × hourly rate; net "
        "savings = avoided − allocated cost − review; ROI = net savings ÷ (allocated cost + review). Break-even = "
        "the minutes a run must save to pay for its AI cost and review. Click a task to drill in.",
        first_cell=lambda row: _task_link(row, filters),
        currency=currency,
    )


def _summary(tasks, currency: str) -> html.Div:
    net = tasks["reported_net_savings_usd"].sum()
    measured = tasks.filter(tasks["roi_basis"] == "measured")
    losing = sum(_loses_money(row) for row in tasks.iter_rows(named=True))
    unvalued = tasks.filter(tasks["human_minutes"].is_null() & (tasks["task"] != UNATTRIBUTED)
                            & (tasks["roi_basis"] != "measured")).height
    unpriced = tasks["unpriced_requests"].sum()
    return cards([
        card("Net savings, all tasks", figures.money(net, currency),
             f"{currency} on allocated cost, tasks with a known cost; "
             f"{figures.money(measured['reported_net_savings_usd'].sum(), currency)} of it measured "
             f"({measured.height} task(s)), the rest the catalog's estimate",
             value_id=ids.scoped(ids.TASKS, "net"), tone="headline"),
        card("Tasks losing money", str(losing),
             [html.Span("AI cost plus review time exceed the people's time saved")]
             + ([html.Span(f"{unvalued} task(s) not in the catalog: their cost counts, no time is valued")]
                if unvalued else []),
             tone="warn" if losing else ""),
        card("Unpriced requests", figures.count(unpriced), "left out of the logs' AI cost (not counted as $0)",
             tone="warn" if unpriced else ""),
    ])


def _drill(snap, filters: data.Filters, currency: str) -> list:
    task = filters.task
    trend = data.task_trend(snap, filters)
    models = data.model_usage(snap, filters)
    out = [
        html.H2(["Task ", html.Code(task), html.Span(" models, trend and cost per success", className="muted small")],
                id=ids.scoped(ids.TASKS, "drill")),
        graph_panel(ids.chart(ids.TASKS, "trend"), figures.task_trend(trend, task, currency)),
        tables.render(MODEL_USAGE, models, f"Models used by {task}",
                      f"Priced cost from the logs ({currency}); effective rate = priced cost ÷ priced tokens.",
                      currency=currency),
    ]
    if data.has_snapshot(snap, "model_whatif"):
        out.append(tables.render(WHATIF, data.whatif(snap, filters), f"What-if for {task}: the same tokens on "
                                 "other models", f"Priced usage, {currency}, over everything loaded (not only this "
                                 "period).", max_rows=25, currency=currency))
    return out


def layout(**query) -> html.Div:
    return PAGE.render(query, _body)


def _body(view: View) -> list:
    snap, filters, currency = view.snap, view.filters, view.currency
    tasks = data.task_table(snap, filters.period, filters.team)
    if tasks.height == 0:
        return [html.Div("No task runs in this period.", className="empty")]
    body = [
        _summary(tasks, currency),
        graph_panel(ids.TASK_CHART, figures.net_savings_bars(tasks, "reported_net_savings_usd", currency)),
    ]
    if filters.task:
        body += _drill(snap, filters, currency)
    body.append(task_table(tasks, filters, currency))
    return body


def register_callbacks(app: dash.Dash) -> None:
    PAGE.register_filter_callback(app)
