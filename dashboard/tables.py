"""Tables with a CSV download: one named builder per table, used both to render it and to write its CSV.

A builder takes (snapshot_dir, filters) and returns a Polars frame. The page renders the frame (formatted,
at most MAX_ROWS rows on screen) and the download button asks one pattern-matching callback for the CSV: it
reads the filters back from the URL and calls the same builder, so the file holds exactly the table's rows
(every row, full precision). Amounts (columns formatted with `figures.AMOUNT_FORMATS`) are written in the reporting
currency the page passes, and a CSV with amounts carries a `currency` column (docs/finance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dash
import polars as pl
from dash import MATCH, Input, Output, State, dcc, html
from werkzeug.exceptions import BadRequest

from dashboard import data, figures, ids

MAX_ROWS = 200
Builder = Callable[[Path, data.Filters], pl.DataFrame]


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    fmt: Callable = str
    numeric: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    build: Builder
    columns: tuple[Column, ...]
    row_class: Callable[[dict], str | None] | None = None


TABLES: dict[str, Table] = {}


def register(table: Table) -> Table:
    TABLES[table.name] = table
    return table


def render(
    table: Table,
    frame: pl.DataFrame,
    title: str | None = None,
    note: str | None = None,
    first_cell: Callable[[dict], html.Td] | None = None,
    max_rows: int = MAX_ROWS,
    currency: str | None = None,
) -> html.Div:
    """The table in a panel, with its title, a note, the CSV button and, when long, how many rows are shown.

    Each row carries `data-key` (its first column's value) so tests and links can find it; `first_cell`
    replaces the first cell (e.g. with a drill-down link)."""
    header = html.Tr([html.Th(c.header, className="num" if c.numeric else None) for c in table.columns])
    body = []
    for row in frame.head(max_rows).iter_rows(named=True):
        cells = [html.Td(_cell(c, row, currency), className="num" if c.numeric else None) for c in table.columns]
        if first_cell is not None:
            cells[0] = first_cell(row)
        key = row.get(table.columns[0].name)
        body.append(html.Tr(cells, className=table.row_class(row) if table.row_class else None,
                            **{"data-key": "" if key is None else str(key)}))
    more = (
        html.P(f"Showing the first {max_rows:,} of {frame.height:,} rows; the CSV has them all.", className="note")
        if frame.height > max_rows
        else None
    )
    empty = html.P("Nothing to show for these filters.", className="note") if frame.height == 0 else None
    return html.Div(
        [
            html.Div(
                [
                    html.Div([html.H3(title) if title else None, html.P(note, className="note") if note else None]),
                    html.Button("Download CSV", id=ids.csv_button(table.name), className="button"),
                    dcc.Download(id=ids.csv_download(table.name)),
                ],
                className="table-head",
            ),
            html.Div(
                html.Table([html.Thead(header), html.Tbody(body)], id=ids.table(table.name), className="table"),
                className="table-wrap",
            ),
            more,
            empty,
        ],
        className="panel",
    )


def _cell(column: Column, row: dict, currency: str | None = None):
    value = row.get(column.name)
    if column.fmt in figures.AMOUNT_FORMATS:  # an amount: in the row's own currency, else the page's
        return column.fmt(value, row.get("currency") or currency or data.DEFAULT_CURRENCY)
    return column.fmt(value) if column.fmt is not str else ("—" if value is None else str(value))


def has_amounts(table: Table) -> bool:
    return any(c.fmt in figures.AMOUNT_FORMATS for c in table.columns)


def csv_text(frame: pl.DataFrame) -> str:
    return frame.write_csv()


def register_callbacks(
    app: dash.Dash, snapshot_dir: Callable[[], Path], filters_for: Callable[[Path, str | None], data.Filters | None]
) -> None:
    """The CSV download of every table: `filters_for(snapshot_dir, address query string)` reads the filters back."""

    @app.callback(
        Output({"type": ids.CSV_DOWNLOAD, "table": MATCH}, "data"),
        Input({"type": ids.CSV_BUTTON, "table": MATCH}, "n_clicks"),
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    def _download(clicks, search):
        if not clicks:
            return dash.no_update
        name = dash.ctx.triggered_id["table"]
        table = TABLES.get(name)
        if table is None:  # only a hand-made request names a table no page renders: a 400, not a 500
            raise BadRequest(f"no table {name!r}")
        snap = snapshot_dir()
        filters = filters_for(snap, search)
        if filters is None:
            return dash.no_update
        frame = table.build(snap, filters)
        if has_amounts(table) and "currency" not in frame.columns:  # a file's amounts say their currency
            frame = frame.with_columns(pl.lit(data.reporting_currency(snap)).alias("currency"))
        p = filters.period
        return dcc.send_string(csv_text(frame), f"aispend-{name}-{p.start.isoformat()}-{p.end.isoformat()}.csv")
