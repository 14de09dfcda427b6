"""Evidence: does AI on a task actually save time? Each task's AI-assisted work items against the rest, from
the organization's own work records: the verdict, the interval, quality, money, and the design with its caveat
(docs/evidence.md). `?task=` drills into one task: its minutes side by side and its weekly medians across the
adoption date."""

from __future__ import annotations

import dash
import polars as pl
from dash import dcc, html

from dashboard import data, evidence_figures, figures, ids, tables
from dashboard.components import card, cards, graph_panel, missing
from dashboard.pages import Page, View, search
from dashboard.tables import Column, Table

PAGE = Page(ids.EVIDENCE, "/evidence", "Evidence", ("team", "task"))

dash.register_page(__name__, path=PAGE.path, name=PAGE.title, title="aispend: evidence", order=2)

DESIGNS = {"concurrent": "concurrent", "before_after": "before/after"}
CAVEATS = {
    "concurrent": "Concurrent: AI-assisted and baseline items were done in the same weeks. People tend to pick AI "
                  "for the items it suits (often the easier ones), so part of a difference may be the items, not "
                  "the AI; compare teams, and prefer queues where AI is applied to every item.",
    "before_after": "Before/after: every baseline item precedes the first AI-assisted one. Anything else that "
                    "changed across the adoption date (tools, season, staff, process) is mixed into the difference; "
                    "check the weekly medians for a trend that runs through the date.",
}


def _range(low, high, fmt) -> str | None:
    return None if low is None or high is None else f"{fmt(low)} to {fmt(high)}"


def _rows(snap, filters: data.Filters) -> pl.DataFrame:
    """task_evidence for the view, with the interval and the money range as text beside their numbers (a row per
    task: formatting them in Python is a few dozen calls)."""
    frame = data.evidence(snap, filters.team)
    currency = data.reporting_currency(snap)
    interval = [_range(lo, hi, _minutes) for lo, hi in zip(frame["minutes_saved_low"], frame["minutes_saved_high"])]
    money = [_range(lo, hi, lambda v: figures.whole_money(v, currency))
             for lo, hi in zip(frame["measured_net_savings_low_usd"], frame["measured_net_savings_high_usd"])]
    return frame.with_columns(pl.Series("minutes_saved_interval", interval, pl.String),
                              pl.Series("net_savings_range", money, pl.String))


def _minutes(value) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _text(value) -> str:
    return "—" if value is None else str(value)


EVIDENCE_TABLE = tables.register(Table(
    "evidence",
    _rows,
    (
        Column("task", "Task", numeric=False),
        Column("items_ai", "AI-assisted items", figures.count),
        Column("items_baseline", "Baseline items", figures.count),
        Column("mean_minutes_baseline", "Mean min, baseline", _minutes),
        Column("mean_minutes_ai", "Mean min, AI", _minutes),
        Column("minutes_saved", "Minutes saved / item", _minutes),
        Column("minutes_saved_interval", "95% interval", _text),
        Column("quality_flag", "Worse with AI", _text, numeric=False),
        Column("ai_cost_per_item_usd", "AI cost / item", figures.money),
        Column("measured_net_savings_usd", "Measured net savings", figures.whole_money),
        Column("net_savings_range", "Range", _text),
    ),
    row_class=lambda r: "loss" if r["verdict"] == "costs_time" else None,
))


def badge(verdict: str | None) -> html.Span:
    return html.Span(evidence_figures.VERDICT_LABELS.get(verdict or "", "no work items"),
                     className=f"badge verdict {verdict or 'none'}")


def _table(frame: pl.DataFrame, filters: data.Filters, currency: str) -> html.Div:
    """The verdict table; the task cell links to its drill and carries the verdict badge."""
    def first(row: dict) -> html.Td:
        href = PAGE.path + search(filters.period, team=filters.team, task=row["task"])
        basis = evidence_figures.BASIS_LABELS.get(row["minutes_basis"] or "", "")
        design = DESIGNS.get(row["method"] or "", "one side empty")
        return html.Td([dcc.Link(row["task"], href=href, className="task-name"), html.Br(), badge(row["verdict"]),
                        html.Div(f"{design}, {basis} minutes", className="task-desc")])

    return tables.render(
        EVIDENCE_TABLE, frame, "Verdict per task",
        "Minutes saved = mean baseline − mean AI-assisted minutes per item, with Welch's t 95% interval. AI cost per "
        f"item: the task's allocated AI cost (billed, {currency}) over the items' days ÷ AI-assisted items. "
        "Measured net savings = AI-assisted items × minutes saved × hourly rate − AI cost − review cost, on hands-on "
        "minutes only "
        "(elapsed minutes are turnaround, not people's time). Click a task to see its minutes and weeks.",
        first_cell=first,
        currency=currency,
    )


def _summary(frame: pl.DataFrame, currency: str) -> html.Div:
    verdicts = frame["verdict"].to_list()
    decided = [v for v in verdicts if v != "insufficient_evidence"]
    money = frame.filter((pl.col("verdict") != "insufficient_evidence")
                         & pl.col("measured_net_savings_usd").is_not_null())
    detail = (f"range {figures.whole_money(money['measured_net_savings_low_usd'].sum(), currency)} to "
              f"{figures.whole_money(money['measured_net_savings_high_usd'].sum(), currency)}; {currency}, "
              "allocated AI cost, "
              f"{money.height} task(s) measured on hands-on minutes, over each task's evidence period")
    return cards([
        card("Tasks with a verdict", f"{len(decided)} of {len(verdicts)}",
             f"{verdicts.count('saves_time')} save time, {verdicts.count('costs_time')} cost time, "
             f"{verdicts.count('no_measurable_difference')} no measurable difference",
             value_id=ids.scoped(ids.EVIDENCE, "decided"), tone="headline"),
        card("Measured net savings", figures.whole_money(
            money["measured_net_savings_usd"].sum() if money.height else None, currency), detail,
            value_id=ids.scoped(ids.EVIDENCE, "net")),
        card("Work items compared", figures.count(int(frame["items_ai"].sum() + frame["items_baseline"].sum())),
             f"{figures.count(int(frame['items_ai'].sum()))} AI-assisted, "
             f"{figures.count(int(frame['items_linked'].sum()))} of them named by a run"),
    ])


QUALITY = (("reopened, % of items", "reopen_rate", 100.0), ("escalated, % of items", "escalation_rate", 100.0),
           ("reverted, % of items", "revert_rate", 100.0), ("mean CSAT (1 to 5)", "csat", 1.0))


def _quality_rows(snap, filters: data.Filters) -> pl.DataFrame:
    """Quality per task of the view (the selected one only, with `?task=`), one row per measure its records
    hold, in the unit the measure names: baseline, AI-assisted, change (AI minus baseline) and its interval."""
    found = data.evidence(snap, filters.team, filters.task)
    parts = ("baseline", "ai", "change", "change_low", "change_high")
    measures = [
        found.select(pl.lit(measure).alias("measure"), "task",
                     *[(pl.col(f"{prefix}_{p}") * scale).alias(p) for p in parts])
        .filter(pl.col("baseline").is_not_null() | pl.col("ai").is_not_null())
        for measure, prefix, scale in QUALITY
    ]
    return pl.concat(measures).sort("task", maintain_order=True)


def _two(value) -> str:
    return "—" if value is None else f"{value + 0.0:,.2f}".replace("-0.00", "0.00")


QUALITY_TABLE = tables.register(Table(
    "evidence_quality",
    _quality_rows,
    (
        Column("measure", "Measure", numeric=False),
        Column("baseline", "Baseline", _two),
        Column("ai", "AI-assisted", _two),
        Column("change", "Change (AI − baseline)", _two),
        Column("change_low", "95% interval from", _two),
        Column("change_high", "to", _two),
    ),
))


def _quality(snap, filters: data.Filters, row: dict) -> html.Div:
    return tables.render(
        QUALITY_TABLE, _quality_rows(snap, filters), f"Quality: {filters.task}",
        "Share of items reopened, escalated or reverted (of items whose record says), and mean CSAT of rated items "
        "(unrated is not bad); change = AI-assisted − baseline, with Welch's t 95% interval. Measurably worse with "
        f"AI: {row['quality_flag'] or 'nothing'}.",
    )


def _drill(snap, filters: data.Filters, currency: str) -> list:
    found = data.evidence(snap, filters.team, filters.task)
    if found.height == 0:
        return [html.P(f"No work items of {filters.task} in the evidence.", className="note")]
    row = found.row(0, named=True)
    method = row["method"]
    return [
        html.H2(["Task ", html.Code(filters.task), " ", badge(row["verdict"])], id=ids.scoped(ids.EVIDENCE, "drill")),
        html.P(f"{row['items_ai']:,} AI-assisted and {row['items_baseline']:,} baseline items; AI cost "
               f"{figures.money(row['ai_cost_per_item_usd'], currency)} and review "
               f"{figures.money(row['review_cost_per_item_usd'], currency)} per AI-assisted item (allocated, billed, "
               f"{currency}).", className="note"),
        html.P([html.Strong("Design: "), CAVEATS.get(method, "One side has no items: nothing to compare yet.")],
               className="note", id=ids.scoped(ids.EVIDENCE, "caveat")),
        html.Div([
            graph_panel(ids.chart(ids.EVIDENCE, "box"), evidence_figures.minutes_box(
                data.evidence_spread(snap, filters), filters.task, row["minutes_basis"])),
            graph_panel(ids.chart(ids.EVIDENCE, "weekly"), evidence_figures.weekly_medians(
                data.evidence_weekly(snap, filters), filters.task, row["first_ai_day"])),
        ], className="two-up"),
        _quality(snap, filters, row),
    ]


def layout(**query) -> html.Div:
    return PAGE.render(query, _body)


def _body(view: View) -> list:
    snap, filters, currency = view.snap, view.filters, view.currency
    if not data.has_snapshot(snap, "task_evidence"):
        return [missing("Evidence (load work records: docs/sources/work_items.md)")]
    frame = _rows(snap, filters)
    if frame.height == 0:
        return [html.Div("No work items for these filters: load work records (docs/sources/work_items.md) and "
                         "name them on requests (docs/evidence.md).", className="empty")]
    start, end = frame["period_start"].min(), frame["period_end"].max()
    body = [
        html.P(f"Verdicts, intervals and money cover each task's work items from {start:%-d %b %Y} to {end:%-d %b %Y} "
               "(the evidence period); the box and weekly charts follow the dates above.", className="note"),
        _summary(frame, currency),
        graph_panel(ids.chart(ids.EVIDENCE, "saved"), evidence_figures.saved_share(frame)),
    ]
    if filters.task:
        body += _drill(snap, filters, currency)
    body.append(_table(frame, filters, currency))
    return body


def register_callbacks(app: dash.Dash) -> None:
    PAGE.register_filter_callback(app)
