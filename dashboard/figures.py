"""Charts and number formats for the pages.

Plotly graph objects, not plotly express: express needs numpy (not installed) and its lazy imports made the
first figure take 25-30 s here. Every chart title names the cost figure and currency it shows (DESIGN rule 4).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

PALETTE = ["#3b6ea8", "#6a9f58", "#d08c3f", "#8a6bb1", "#c25b5b", "#4d9a9a", "#a3844a", "#7a7a7a"]
GAIN = "#4f8a5b"
LOSS = "#c0504d"
FONT = "Inter, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


# --- numbers --------------------------------------------------------------------------------------------

def money(value: float | None, currency: str | None = "USD", decimals: int = 2) -> str:
    """`$12,345.67`, `-$40.00`, `€2.00`; an unknown amount is a dash, never $0."""
    if value is None:
        return "—"
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    digits = f"{abs(value):,.{decimals}f}"
    sign = "-" if value < 0 and round(abs(value), decimals) != 0 else ""
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {currency or ''}".rstrip()


def percent(value: float | None, decimals: int = 1) -> str:
    return "—" if value is None else f"{value * 100:,.{decimals}f}%"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def change(current: float | None, previous: float | None) -> str | None:
    """Relative change as text, e.g. '+12.3%'; None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    return f"{(current - previous) / abs(previous) * 100:+,.1f}%"


# --- charts ---------------------------------------------------------------------------------------------

def _base(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        template="plotly_white",
        font={"family": FONT, "size": 12, "color": "#2b2f36"},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.15, "x": 0},
        hovermode="x unified",
    )
    return fig


def empty(title: str, message: str) -> go.Figure:
    fig = _base(go.Figure(), title, height=260)
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "font": {"size": 13, "color": "#6b7280"}}],
    )
    return fig


def spend_by_provider(daily: pl.DataFrame, currency: str | None) -> go.Figure:
    """Daily billed cost stacked by provider, from `data.daily_billed_by_provider` (one currency)."""
    title = f"Daily billed cost (cash), {currency or 'no currency'}, by provider"
    if daily.height == 0:
        return empty(title, "No billed spend in this period")
    fig = go.Figure()
    symbol = CURRENCY_SYMBOLS.get(currency or "", "")
    for i, ((provider,), part) in enumerate(sorted(daily.partition_by("provider", as_dict=True).items())):
        fig.add_trace(
            go.Bar(
                x=part["day"].to_list(),
                y=part["billed_cost"].to_list(),
                name=provider,
                marker={"color": PALETTE[i % len(PALETTE)], "line": {"width": 0}},
                hovertemplate=f"{provider}: {symbol}%{{y:,.2f}}<extra></extra>",
            )
        )
    fig = _base(fig, title)
    # Stacked bars, not areas: credits are negative and some providers bill only on some days.
    fig.update_layout(barmode="relative", bargap=0.25, legend={"traceorder": "normal"})
    fig.update_yaxes(tickprefix=symbol, separatethousands=True, title=None, zerolinecolor="#9ca3af")
    fig.update_xaxes(title=None)
    return fig


def net_savings_bars(tasks: pl.DataFrame) -> go.Figure:
    """Net savings per task (USD), gains green and losses red, from `data.task_table`."""
    title = "Net savings by task, USD (people's time avoided − AI cost − review time)"
    known = tasks.filter(pl.col("net_savings_usd").is_not_null()).sort("net_savings_usd")
    if known.height == 0:
        return empty(title, "No priced task runs in this period")
    colors = known.select(
        pl.when(pl.col("net_savings_usd") < 0).then(pl.lit(LOSS)).otherwise(pl.lit(GAIN))
    ).to_series()
    fig = go.Figure(
        go.Bar(
            x=known["net_savings_usd"].to_list(),
            y=known["task"].to_list(),
            orientation="h",
            marker={"color": colors.to_list()},
            hovertemplate="%{y}: $%{x:,.2f}<extra></extra>",
        )
    )
    fig = _base(fig, title, height=max(220, 90 + 44 * known.height))
    fig.update_layout(hovermode="closest", showlegend=False)
    fig.update_xaxes(tickprefix="$", separatethousands=True, zeroline=True, zerolinecolor="#9ca3af", title=None)
    fig.update_yaxes(title=None, automargin=True)
    return fig
