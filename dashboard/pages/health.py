"""Data health: every check's latest verdict (what, since when, why), which sources loaded and when, which files
were refused and why, how much is priced, which months are closed and what arrived after their close, and how
other currencies convert (docs/finance.md)."""

from __future__ import annotations

import dash
import polars as pl
from dash import html

from dashboard import data, figures, ids, tables
from dashboard.components import missing, no_data, title_row
from dashboard.pages import filters_from_query, snapshot_dir
from dashboard.tables import Column, Table

PATH = "/health"
TITLE = "Data health"

dash.register_page(__name__, path=PATH, name=TITLE, title="aispend: data health", order=5)


def _when(value):
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _checks(snap, filters=None) -> pl.DataFrame:
    """The stored verdicts with how a reader says them: FAILED (an error: the numbers are wrong until fixed),
    warning, or passed; and since when ("failing since": when the verdict last changed)."""
    found = data.checks(snap)
    failed = ~pl.col("passed")
    return found.with_columns(
        pl.when(~failed).then(pl.lit("passed")).when(pl.col("severity") == "error").then(pl.lit("FAILED"))
        .otherwise(pl.lit("warning")).alias("verdict"),
        (pl.when(failed).then(pl.lit("failing since ")).otherwise(pl.lit("passing since "))
         + pl.col("changed_at").dt.strftime("%Y-%m-%d %H:%M UTC")).alias("since"),
    )


def _details(checks: pl.DataFrame) -> html.Div | None:
    """The first offending rows of each failing check, folded under its name."""
    failing = checks.filter(~pl.col("passed") & pl.col("details").is_not_null())
    if not failing.height:
        return None
    parts = []
    for row in failing.iter_rows(named=True):
        rows = pl.read_ndjson(row["details"].encode())
        head = html.Tr([html.Th(c) for c in rows.columns])
        body = [html.Tr([html.Td("" if v is None else str(v)) for v in r]) for r in rows.head(20).iter_rows()]
        parts.append(html.Details([
            html.Summary(f"{row['check']}: the first {rows.height} of {row['offending']:,}"),
            html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="table"), className="table-wrap"),
        ], id=ids.scoped(ids.HEALTH, f"details-{row['check'].replace(':', '-')}")))
    return html.Div([html.H3("What the failing checks found"), *parts], className="panel")


CHECKS = tables.register(Table(
    "checks",
    _checks,
    (
        Column("verdict", "Verdict", numeric=False),
        Column("check", "Check", numeric=False),
        Column("description", "What was found", numeric=False),
        Column("offending", "At fault", figures.count),
        Column("since", "Since", numeric=False),
        Column("evaluated_at", "Evaluated", _when, numeric=False),
    ),
    row_class=lambda r: None if r["passed"] else ("loss" if r["severity"] == "error" else "warn"),
))
SOURCES = tables.register(Table(
    "sources",
    lambda snap, f: data.sources(snap),
    (
        Column("source", "Source", numeric=False),
        Column("kind", "Kind", numeric=False),
        Column("files", "Files / pages", figures.count),
        Column("files_quarantined", "Quarantined", figures.count),
        Column("rows", "Rows loaded", figures.count),
        Column("last_load", "Last load", _when, numeric=False),
    ),
    row_class=lambda r: "loss" if r["files_quarantined"] else None,
))
QUARANTINED = tables.register(Table(
    "quarantined",
    lambda snap, f: data.quarantined(snap),
    (
        Column("source", "Source", numeric=False),
        Column("location", "File", numeric=False),
        Column("error", "Why it was refused", numeric=False),
        Column("loaded_at", "When", _when, numeric=False),
    ),
    row_class=lambda r: "loss",
))
COVERAGE = tables.register(Table(
    "coverage",
    lambda snap, f: data.coverage(snap, f.period),
    (
        Column("provider", "Provider", figures.provider_label, numeric=False),
        Column("requests", "Requests", figures.count),
        Column("unpriced_requests", "Unpriced", figures.count),
        Column("price_coverage", "Price coverage", figures.percent),
        Column("unpriced_models", "Unpriced models", figures.count),
    ),
    row_class=lambda r: "warn" if r["unpriced_requests"] else None,
))
CLOSED = tables.register(Table(
    "closed_months",
    lambda snap, f: data.closed_months(snap),
    (
        Column("month", "Month", lambda v: v.strftime("%B %Y"), numeric=False),
        Column("closed_by", "Closed by", numeric=False),
        Column("closed_at", "When", _when, numeric=False),
        Column("billed_cost", "AI spend as closed (billed)", figures.money),
        Column("lines", "AI lines", figures.count),
        Column("changed_lines", "Lines changed since", figures.count),
        Column("change_amount", "Would move the month by", figures.money),
    ),
    row_class=lambda r: "warn" if r["changed_lines"] else None,
))
CHANGES = tables.register(Table(
    "changes_after_close",
    lambda snap, f: data.changes_after_close(snap),
    (
        Column("month", "Month", lambda v: v.strftime("%Y-%m"), numeric=False),
        Column("change", "Change", numeric=False),
        Column("x_line_id", "Line", numeric=False),
        Column("provider", "Provider", figures.provider_label, numeric=False),
        Column("model", "Model", numeric=False),
        Column("charge_day", "Charge day", numeric=False),
        Column("billing_currency", "Billed in", numeric=False),
        Column("billed_change", "Change as billed", lambda v: "—" if v is None else f"{v:+,.2f}"),
        Column("billed_change_reporting", "Amount", figures.money),
        Column("x_source_file", "File", numeric=False),
    ),
))
FX = tables.register(Table(
    "fx_coverage",
    lambda snap, f: data.fx_coverage(snap),
    (
        Column("billing_currency", "Billed in", numeric=False),
        Column("lines", "Lines", figures.count),
        Column("first_day", "First charge day", numeric=False),
        Column("last_day", "Last charge day", numeric=False),
        Column("newest_rate_day", "Newest rate", lambda v: "none" if v is None else str(v), numeric=False),
        Column("rate_source", "Rate from", numeric=False),
        Column("days_after_newest_rate", "Charge days after it", figures.count),
    ),
    row_class=lambda r: "loss" if r["newest_rate_day"] is None else "warn" if r["days_after_newest_rate"] else None,
))


def _finance(snap) -> list:
    """Closed months and what arrived after them; how bills in other currencies convert."""
    currency = data.reporting_currency(snap)
    out = []
    if data.has_snapshot(snap, "closed_months"):
        closed = data.closed_months(snap)
        out.append(tables.render(CLOSED, closed, "Closed months",
                                 f"{currency}. A closed month's chargeback and reports keep these figures; lines "
                                 "delivered since are listed below, not added (aispend close, aispend reopen).",
                                 currency=currency))
        if data.has_snapshot(snap, "changes_after_close") and closed["changed_lines"].sum():
            out.append(tables.render(CHANGES, data.changes_after_close(snap), "Changes after close",
                                     f"Every AI line that differs from its month as closed: added, removed or "
                                     f"changed, with the amount in {currency} the month would move by.",
                                     currency=currency))
    fx = data.fx_coverage(snap)
    if fx.height:
        late = fx.filter(fx["days_after_newest_rate"] > 0)["billing_currency"].to_list()
        note = (f"Bills in other currencies are converted to {currency} at their charge day's rate: the ECB's "
                "reference rate (bundled, offline) or the fx_rates file, the latest earlier one on days with none.")
        if late:
            note += (f" Bills in {', '.join(late)} are charged after the newest rate and convert at it: add later "
                     "rates to the fx_rates file to pin them (docs/finance.md).")
        if currency != "USD":
            note += " The logs' prices, in dollars, convert the same way, at each request's day."
        out.append(tables.render(FX, fx, "Exchange rates", note))
    return out


SNAPSHOTS = tables.register(Table(
    "snapshots",
    lambda snap, f: data.snapshot_files(snap),
    (
        Column("table", "Table", numeric=False),
        Column("published_at", "Published", _when, numeric=False),
        Column("bytes", "Bytes", figures.count),
    ),
))


def layout(**query) -> html.Div:
    snap = snapshot_dir()
    bounds = data.day_range(snap)
    if bounds is None and not data.has_snapshot(snap, "ingest_log"):
        return no_data(TITLE)
    filters, note = filters_from_query(bounds, query) if bounds else (None, None)
    quarantined = data.quarantined(snap)
    checks = _checks(snap)
    failing = checks.filter(~pl.col("passed") & (pl.col("severity") == "error"))
    body = [
        title_row(ids.HEALTH, TITLE, filters.period if filters else None),
        html.P(note, id=ids.scoped(ids.HEALTH, ids.PERIOD_NOTE), className="note warn") if note else None,
        html.Div(
            [
                html.Strong(f"{failing.height} check(s) FAILED: "),
                ", ".join(failing["check"].to_list()),
                ". The figures they judge are wrong or incomplete until the data is fixed; every run says so "
                "again until then.",
            ],
            className="note warn banner", id=ids.scoped(ids.HEALTH, "checks-banner"),
        ) if failing.height else None,
        tables.render(CHECKS, checks, "Checks",
                      "Every check, evaluated at the end of the last run over the data as it then stood: a verdict "
                      "changes when the data does (docs/operations.md).")
        if data.has_snapshot(snap, "check_results") else missing("The check results"),
        _details(checks),
        html.Div(
            [
                html.Strong(f"{quarantined.height} file(s) quarantined. "),
                "Nothing of a quarantined file was loaded; fix it and the next run reads it again.",
            ],
            className="note warn banner", id=ids.scoped(ids.HEALTH, "banner"),
        ) if quarantined.height else None,
        tables.render(SOURCES, data.sources(snap), "Sources",
                      "Every file or API page read, by its latest attempt.")
        if data.has_snapshot(snap, "ingest_log") else missing("The ingest log"),
        tables.render(QUARANTINED, quarantined, "Quarantined files",
                      "Refused whole: the reason names the file, the row or column, and what was wrong."),
    ]
    if filters is not None:
        body.append(tables.render(COVERAGE, data.coverage(snap, filters.period), "Price coverage in the period",
                                  "Share of requests with a known price. Unpriced requests are never counted as $0."))
    body += _finance(snap)
    body.append(tables.render(SNAPSHOTS, data.snapshot_files(snap), "Snapshots the dashboard reads",
                              "Published by the pipeline after each step (UTC)."))
    return html.Div(body, className="page")


def register_callbacks(app: dash.Dash) -> None:
    pass
