"""What every page shares: where the snapshot is, the view the URL asks for, the filter bar and its callback.

Filters live in the URL query string (`start`, `end`, `provider`, `team`, `task`) so a view can be shared by
copying the address. Controls never hold state of their own: a change rewrites the query string and Dash's
page router renders the page again from it. Every table is rendered from a named builder in `TABLES`, and its
CSV download calls the same builder with the filters read back from the URL: the file is the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import dash
from dash import Input, Output, State, dcc, html

from dashboard import data, figures, ids
from dashboard.components import no_data, title_row

SNAPSHOT_DIR_KEY = "AISPEND_SNAPSHOT_DIR"
PRESET_DAYS = (7, 30, 90)
# The dropdown filters a page may offer: the URL key, its label, and its options from the snapshot.
CHOICES = {
    "provider": ("Provider", lambda snap: figures.provider_options(data.providers(snap))),
    "team": ("Team", data.teams),
    "task": ("Task", data.task_names),
}


def snapshot_dir() -> Path:
    """The snapshot folder of the app serving this request (set by `create_app`, read per request)."""
    return Path(dash.get_app().server.config[SNAPSHOT_DIR_KEY])


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def resolve_period(bounds: tuple[date, date], start: str | None, end: str | None) -> tuple[data.Period, str | None]:
    """The period the URL asks for, or the last 30 days of data; with a note when the URL made no sense."""
    first, last = _day(start), _day(end)
    note = None
    if (start and first is None) or (end and last is None):
        note = "The dates in the address could not be read (use YYYY-MM-DD); showing the default period."
        first = last = None
    elif any(d is not None and not data.FIRST_DAY <= d <= data.LAST_DAY for d in (first, last)):
        note = (f"The dates in the address are outside {data.FIRST_DAY} .. {data.LAST_DAY}; showing the default "
                "period.")
        first = last = None
    if first is None and last is None:
        return data.Period.ending(bounds[1], data.DEFAULT_PERIOD_DAYS), note
    if last is None:
        last = max(first, bounds[1])
    if first is None:
        first = data.Period.ending(last, data.DEFAULT_PERIOD_DAYS).start
    if first > last:
        first, last = last, first
    return data.Period(first, last), note


def search(period: data.Period | None = None, **choices: str | None) -> str:
    """The query string for a view: '?start=2026-03-02&end=2026-03-31&team=sales'."""
    params = {}
    if period is not None:
        params = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    params.update({k: v for k, v in choices.items() if v})
    return "?" + urlencode(params) if params else ""


def query_of(search_string: str | None) -> dict[str, str]:
    """An address's query string as the keyword arguments Dash hands a page's `layout` (the last value wins)."""
    return {k: v[-1] for k, v in parse_qs((search_string or "").lstrip("?")).items()}


def filters_from_query(bounds: tuple[date, date], query: dict) -> tuple[data.Filters, str | None]:
    period, note = resolve_period(bounds, query.get("start"), query.get("end"))
    picked = {k: (str(query[k]) if query.get(k) else None) for k in (*CHOICES, "person")}
    return data.Filters(period, **picked), note


def filters_for_download(snap: Path, search_string: str | None) -> data.Filters:
    """The filters a CSV download applies: the same reading of the address as the page's layout."""
    bounds = data.day_range(snap)
    if bounds is None:
        return data.Filters(data.Period(date.today(), date.today()))  # tables that need no period still export
    return filters_from_query(bounds, query_of(search_string))[0]


@dataclass(frozen=True)
class View:
    """What one page load shows: the snapshot folder, the days with data, the filters the URL asks for (`note`
    says when the URL's dates could not be read), and the reporting currency every amount is in."""

    snap: Path
    bounds: tuple[date, date]
    filters: data.Filters
    note: str | None
    currency: str = data.DEFAULT_CURRENCY


def current_view(query: dict) -> View | None:
    """The view a page's `layout(**query)` renders; None before the pipeline has published any data."""
    snap = snapshot_dir()
    bounds = data.day_range(snap)
    if bounds is None:
        return None
    filters, note = filters_from_query(bounds, query)
    return View(snap, bounds, filters, note, data.reporting_currency(snap))


@dataclass(frozen=True)
class Page:
    """A page with the filter bar: its id prefix (ids.py), path, title, and dropdowns (keys of CHOICES)."""

    id: str
    path: str
    title: str
    choices: tuple[str, ...]

    def render(self, query: dict, body: Callable[[View], list]) -> html.Div:
        """What `layout(**query)` returns: the title, the filter bar, then `body(view)`; "No data yet" before the
        pipeline's first snapshot."""
        view = current_view(query)
        if view is None:
            return no_data(self.title)
        header = [title_row(self.id, self.title, view.filters.period),
                  filter_bar(self.id, self.path, view, self.choices)]
        return html.Div([*header, *body(view)], className="page")

    def register_filter_callback(self, app: dash.Dash) -> None:
        register_filter_callback(app, self.id, self.choices)


def filter_bar(page: str, path: str, view: View, choices: tuple[str, ...]) -> html.Div:
    """Date range, quick presets and one dropdown per key of `choices`; the page's callback (see
    `register_filter_callback`) turns changes into a new URL."""
    filters, bounds = view.filters, view.bounds
    period = filters.period
    kept = {k: getattr(filters, k) for k in choices}
    presets = [
        dcc.Link(
            f"Last {n} days",
            href=path + search(data.Period.ending(bounds[1], n), **kept),
            className="preset active" if period == data.Period.ending(bounds[1], n) else "preset",
        )
        for n in PRESET_DAYS
    ]
    whole = data.Period(bounds[0], bounds[1])
    presets.append(
        dcc.Link("All data", href=path + search(whole, **kept), className="preset active" if period == whole else "preset")
    )
    dropdowns = [
        html.Div(
            [
                html.Label(CHOICES[key][0], htmlFor=ids.choice(page, key)),
                dcc.Dropdown(
                    id=ids.choice(page, key),
                    options=CHOICES[key][1](view.snap),
                    value=getattr(filters, key),
                    placeholder=f"All {CHOICES[key][0].lower()}s",
                    clearable=True,
                    className="dropdown",
                ),
            ],
            className="control",
        )
        for key in choices
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.Label("Period", htmlFor=ids.scoped(page, ids.DATES)),
                    dcc.DatePickerRange(
                        id=ids.scoped(page, ids.DATES),
                        start_date=period.start.isoformat(),
                        end_date=period.end.isoformat(),
                        min_date_allowed=min(bounds[0], period.start).isoformat(),
                        max_date_allowed=max(bounds[1], period.end).isoformat(),
                        display_format="D MMM YYYY",
                        first_day_of_week=1,
                    ),
                ],
                className="control",
            ),
            html.Div(presets, id=ids.scoped(page, ids.PRESETS), className="presets"),
            *dropdowns,
            html.P(view.note, id=ids.scoped(page, ids.PERIOD_NOTE), className="note warn") if view.note else None,
        ],
        className="filters",
    )


def register_filter_callback(app: dash.Dash, page: str, choices: tuple[str, ...]) -> None:
    """Write the page's controls into the URL; the page router then re-renders from the new query string."""

    @app.callback(
        Output(ids.URL, "search", allow_duplicate=True),
        Input(ids.scoped(page, ids.DATES), "start_date"),
        Input(ids.scoped(page, ids.DATES), "end_date"),
        *[Input(ids.choice(page, key), "value") for key in choices],
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    def _to_url(start_date, end_date, *rest):
        *values, current = rest
        first, last = _day(start_date), _day(end_date)
        if first is None or last is None:  # half-picked range: wait for the second date
            return dash.no_update
        picked = dict(zip(choices, values))
        wanted = search(data.Period(min(first, last), max(first, last)), **picked)
        if wanted == (current or "") or _same_view(current, first, last, picked):
            return dash.no_update
        return wanted


def _same_view(current: str | None, first: date, last: date, picked: dict) -> bool:
    """Whether the controls show what the current address already shows.

    The controls report their values once after a page renders; on an address with no dates (the default
    period) the query strings differ while the view is the same, and rewriting the address would render the
    whole page a second time.
    """
    bounds = data.day_range(snapshot_dir())
    if bounds is None:
        return False
    shown, _ = filters_from_query(bounds, query_of(current))
    wanted = data.Filters(data.Period(min(first, last), max(first, last)),
                          **{k: v or None for k, v in picked.items()})
    return all(getattr(shown, k) == getattr(wanted, k) for k in ("period", *picked))
