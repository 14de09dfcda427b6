"""The Evidence page's charts: time saved per task with its interval, one task's minutes AI-assisted against
baseline, and its weekly medians across the adoption date (docs/evidence.md).

Like dashboard/figures.py (whose layout and colours these share): frames in, figures out, no data access, and
every title says what is measured, on which items, with which interval.
"""

from __future__ import annotations

from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl

from dashboard.figures import GAIN, LOSS, PALETTE, _base, empty

VERDICT_LABELS = {
    "saves_time": "saves time",
    "costs_time": "costs time",
    "no_measurable_difference": "no measurable difference",
    "insufficient_evidence": "insufficient evidence",
}
VERDICT_COLORS = {"saves_time": GAIN, "costs_time": LOSS, "no_measurable_difference": "#8b93a1",
                  "insufficient_evidence": "#c9ced6"}
BASIS_LABELS = {"handling": "hands-on", "elapsed": "elapsed (turnaround)"}


def saved_share(evidence: pl.DataFrame) -> go.Figure:
    """Minutes saved per item as a share of the baseline mean, each task's interval as an error bar.

    A share, not minutes, so a task measured in days of turnaround and one measured in minutes of hands-on time
    fit one axis; the hover gives the minutes.
    """
    title = ("Time saved per work item, % of the baseline mean (AI-assisted vs baseline), "
             "with its 95% interval (Welch's t)")
    rows = evidence.filter(pl.col("minutes_saved").is_not_null() & (pl.col("mean_minutes_baseline") > 0))
    if rows.height == 0:
        return empty(title, "No task has AI-assisted and baseline items to compare")
    base = pl.col("mean_minutes_baseline")
    rows = rows.with_columns(
        (pl.col("minutes_saved") / base * 100).alias("pct"),
        ((pl.col("minutes_saved_high") - pl.col("minutes_saved")) / base * 100).alias("plus"),
        ((pl.col("minutes_saved") - pl.col("minutes_saved_low")) / base * 100).alias("minus"),
    ).sort("pct")
    decided = rows.filter(pl.col("verdict") != "insufficient_evidence")
    reach = max([abs(v) for v in [*(decided["pct"] + decided["plus"].fill_null(0)).to_list(),
                                  *(decided["pct"] - decided["minus"].fill_null(0)).to_list()]] + [20.0])
    fig = go.Figure(go.Bar(
        x=rows["pct"].to_list(),
        y=rows["task"].to_list(),
        orientation="h",
        marker={"color": [VERDICT_COLORS[v] for v in rows["verdict"].to_list()]},
        error_x={"type": "data", "symmetric": False, "array": rows["plus"].fill_null(0).to_list(),
                 "arrayminus": rows["minus"].fill_null(0).to_list(), "color": "#2b2f36", "thickness": 1.2},
        customdata=list(zip(rows["minutes_saved"].to_list(), rows["minutes_saved_low"].to_list(),
                            rows["minutes_saved_high"].to_list(),
                            [VERDICT_LABELS[v] for v in rows["verdict"].to_list()])),
        hovertemplate="%{y}: %{x:.1f}% of baseline (%{customdata[0]:,.1f} min, interval %{customdata[1]:,.1f} to "
                      "%{customdata[2]:,.1f}); %{customdata[3]}<extra></extra>",
    ))
    fig = _base(fig, title, height=max(240, 100 + 40 * rows.height))
    fig.update_layout(hovermode="closest", showlegend=False)
    # The axis fits the tasks with a verdict; an interval too wide for a verdict runs off its edge.
    fig.update_xaxes(ticksuffix="%", zeroline=True, zerolinecolor="#6b7280", zerolinewidth=1.5, title=None,
                     range=[-reach * 1.15, reach * 1.15])
    fig.update_yaxes(title=None, automargin=True)
    return fig


def minutes_box(spread: pl.DataFrame, task: str, basis: str | None) -> go.Figure:
    """One task's minutes per item, baseline beside AI-assisted: box 25th-75th percentile, whiskers 5th-95th."""
    kind = BASIS_LABELS.get(basis or "", "measured")
    title = f"{task}: {kind} minutes per item (box 25th–75th, whiskers 5th–95th)"
    if spread.height == 0:
        return empty(title, "No measured items of this task in the period")
    fig = go.Figure()
    for side, label, color in ((False, "Baseline", PALETTE[7]), (True, "AI-assisted", PALETTE[0])):
        row = spread.filter(pl.col("ai_assisted") == side)
        if row.height == 0:
            continue
        r = row.row(0, named=True)
        name = f"{label} ({r['items']:,} items)"
        fig.add_trace(go.Box(
            name=name, x=[name], q1=[r["q1"]], median=[r["median"]], q3=[r["q3"]],
            lowerfence=[r["p05"]], upperfence=[r["p95"]], mean=[r["mean"]], marker={"color": color},
            boxmean=True, orientation="v",
        ))
    fig = _base(fig, title, height=360)
    fig.update_layout(hovermode="closest", showlegend=False)
    fig.update_yaxes(title="minutes", rangemode="tozero")
    return fig


def weekly_medians(weekly: pl.DataFrame, task: str, first_ai_day: date | None) -> go.Figure:
    """Median minutes per week on each side, the AI share of items as bars behind, the adoption date marked."""
    title = f"{task}: weekly median minutes, baseline and AI-assisted, and AI share"
    if weekly.height == 0:
        return empty(title, "No measured items of this task in the period")
    weeks = weekly["week"].to_list()
    fig = go.Figure()
    # The share's bars sit on the first axis (right) and the minutes on the overlaying one (left), which Plotly
    # draws on top: the lines stay visible over the bars.
    fig.add_trace(go.Bar(x=weeks, y=(weekly["ai_share"] * 100).to_list(), name="AI share of items",
                         marker={"color": "#e4e8ee"}, hovertemplate="AI share: %{y:.0f}%<extra></extra>"))
    for column, name, color in (("median_minutes_baseline", "Baseline median", PALETTE[7]),
                                ("median_minutes_ai", "AI-assisted median", PALETTE[0])):
        fig.add_trace(go.Scatter(x=weeks, y=weekly[column].to_list(), name=name, mode="lines+markers", yaxis="y2",
                                 line={"color": color, "width": 2}, connectgaps=False,
                                 hovertemplate=f"{name}: %{{y:,.1f}} min<extra></extra>"))
    fig = _base(fig, title)
    fig.update_layout(yaxis={"side": "right", "range": [0, 100], "ticksuffix": "%", "dtick": 25, "showgrid": False,
                             "title": None},
                      yaxis2={"overlaying": "y", "side": "left", "title": "minutes", "rangemode": "tozero",
                              "tickmode": "auto", "showgrid": True})
    if first_ai_day is not None and weeks[0] <= first_ai_day <= weeks[-1] + timedelta(days=6):
        fig.add_vline(x=first_ai_day.isoformat(), line={"dash": "dash", "color": "#6b7280", "width": 1})
        fig.add_annotation(x=first_ai_day.isoformat(), y=1, yref="paper", text="first AI-assisted item",
                           showarrow=False, xanchor="left", font={"size": 11, "color": "#6b7280"})
    return fig
