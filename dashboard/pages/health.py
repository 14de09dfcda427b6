"""Data health: which sources loaded and when, which files were refused and why, and how much is priced."""

from __future__ import annotations

import dash
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
    filters = filters_from_query(bounds, query)[0] if bounds else None
    quarantined = data.quarantined(snap)
    body = [
        title_row(ids.HEALTH, TITLE, filters.period if filters else None),
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
    body.append(tables.render(SNAPSHOTS, data.snapshot_files(snap), "Snapshots the dashboard reads",
                              "Published by the pipeline after each step (UTC)."))
    return html.Div(body, className="page")


def register_callbacks(app: dash.Dash) -> None:
    pass
