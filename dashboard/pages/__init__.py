"""What every page shares: where the snapshot is, the period from the URL, the filter bar and its callback.

Filters live in the URL query string (`start`, `end`, `provider`, `team`, `task`) so a view can be shared by
copying the address. Controls never hold state of their own: a change rewrites the query string and Dash's
page router renders the page again from it. Every table is rendered from a named builder in `TABLES`, and its
CSV download calls the same builder with the filters read back from the URL: the file is the table.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import dash
from dash import Input, Output, State, dcc, html

from dashboard import data, ids

SNAPSHOT_DIR_KEY = "AISPEND_SNAPSHOT_DIR"
PRESET_DAYS = (7, 30, 90)


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


def period_label(period: data.Period) -> str:
    same_year = period.start.year == period.end.year
    start = period.start.strftime("%-d %b" if same_year else "%-d %b %Y")
    days = "1 day" if period.days == 1 else f"{period.days} days"
    return f"{start} – {period.end.strftime('%-d %b %Y')} ({days})"


def no_data(page_title: str) -> html.Div:
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


CHOICE_LABELS = {"provider": "Provider", "team": "Team", "task": "Task"}


def filters_from_query(bounds: tuple[date, date], query: dict) -> tuple[data.Filters, str | None]:
    period, note = resolve_period(bounds, query.get("start"), query.get("end"))
    picked = {k: (str(query[k]) if query.get(k) else None) for k in CHOICE_LABELS}
    return data.Filters(period, **picked), note


def filter_bar(
    page: str,
    path: str,
    filters: data.Filters,
    bounds: tuple[date, date],
    choices: dict[str, list],
    note: str | None,
) -> html.Div:
    """Date range, quick presets and one dropdown per entry of `choices` (key -> options, each a value or a
    {label, value} dict); the page's callback turns changes into a new URL."""
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
                html.Label(CHOICE_LABELS[key], htmlFor=ids.choice(page, key)),
                dcc.Dropdown(
                    id=ids.choice(page, key),
                    options=options,
                    value=getattr(filters, key),
                    placeholder=f"All {CHOICE_LABELS[key].lower()}s",
                    clearable=True,
                    className="dropdown",
                ),
            ],
            className="control",
        )
        for key, options in choices.items()
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
            html.P(note, id=ids.scoped(page, ids.PERIOD_NOTE), className="note warn") if note else None,
        ],
        className="filters",
    )


def register_filter_callback(app: dash.Dash, page: str, choice_keys: list[str]) -> None:
    """Write the page's controls into the URL; the page router then re-renders from the new query string."""

    @app.callback(
        Output(ids.URL, "search", allow_duplicate=True),
        Input(ids.scoped(page, ids.DATES), "start_date"),
        Input(ids.scoped(page, ids.DATES), "end_date"),
        *[Input(ids.choice(page, key), "value") for key in choice_keys],
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    def _to_url(start_date, end_date, *rest):
        *choices, current = rest
        first, last = _day(start_date), _day(end_date)
        if first is None or last is None:  # half-picked range: wait for the second date
            return dash.no_update
        picked = dict(zip(choice_keys, choices))
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
    query = {k: v[-1] for k, v in parse_qs((current or "").lstrip("?")).items()}
    shown, _ = filters_from_query(bounds, query)
    wanted = data.Filters(data.Period(min(first, last), max(first, last)),
                          **{k: v or None for k, v in picked.items()})
    return all(getattr(shown, k) == getattr(wanted, k) for k in ("period", *picked))


def title_row(page: str, title: str, period: data.Period | None, extra=None) -> html.Div:
    label = html.Span(period_label(period), id=ids.scoped(page, ids.PERIOD_LABEL), className="period") if period else None
    return html.Div([html.H1(title), label, extra], className="title-row")


def missing(what: str) -> html.Div:
    """A friendly note where one snapshot is not there yet (the rest of the page still renders)."""
    return html.Div(
        [html.Strong("No data yet. "), f"{what} appears after the pipeline publishes it (",
         html.Code("aispend run --config aispend.yaml"), ")."],
        className="empty small-empty",
    )
