"""Charts and number formats for the pages.

Plotly graph objects, not plotly express: express needs numpy (not installed) and its lazy imports made the
first figure take 25-30 s here. Every chart title names the cost figure and currency it shows (docs/dashboard.md).
Figures take frames already queried (dashboard.data) and never read data themselves.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from pipelines.finance.money import CURRENCY_SYMBOLS, money  # noqa: F401  (money: the pages' number format)

PALETTE = ["#3b6ea8", "#6a9f58", "#d08c3f", "#8a6bb1", "#c25b5b", "#4d9a9a", "#a3844a", "#7a7a7a"]
GAIN = "#4f8a5b"
LOSS = "#c0504d"
FONT = "Inter, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
PROVIDER_LABELS = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "aws": "AWS",
    "azure": "Azure",
    "google": "Google",
    "mistral": "Mistral",
    "(no provider)": "(no provider)",
    # vendors of seats and coding tools (person_monthly.vendor)
    "github": "GitHub Copilot",
    "cursor": "Cursor",
}
ORGANIZATION = "(organization)"  # person_monthly rows no person owns: pooled seats, usage billed to the org
CATEGORY_LABELS = {
    "failed_requests": "Failed requests",
    "retries": "Retries after a failure",
    "batch_eligible": "Batch API not used",
    "caching_opportunity": "Prompt caching not used",
    "idle_provisioned_throughput": "Idle provisioned throughput",
    "idle_ai_compute": "Idle AI compute",
}


def provider_label(provider: str | None) -> str:
    if provider is None:
        return "—"
    return PROVIDER_LABELS.get(provider, provider)


def provider_options(providers: list[str]) -> list[dict]:
    return [{"label": provider_label(p), "value": p} for p in providers]


# --- numbers --------------------------------------------------------------------------------------------

def whole_money(value: float | None, currency: str | None = "USD") -> str:
    """An amount to the whole unit (`$1,235`): for ranges and estimates where cents mean nothing."""
    return money(value, currency, decimals=0)


# The number formats that write an amount: tables give them the reporting currency (dashboard/tables.py).
AMOUNT_FORMATS = (money, whole_money)


def amount_axis(currency: str | None) -> dict:
    """Plotly axis settings that write the currency on every tick: its symbol in front, or its code after."""
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    return {"tickprefix": symbol} if symbol else {"ticksuffix": f" {currency or ''}".rstrip()}


def amount_hover(currency: str | None, value: str = "%{y:,.2f}") -> str:
    """A hover template's amount with its currency: `$%{y:,.2f}` or `%{y:,.2f} CHF`."""
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    return f"{symbol}{value}" if symbol else f"{value} {currency or ''}".rstrip()


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
    """Daily billed cost stacked by provider, from `data.daily_billed_by_provider` (one currency: the reporting
    currency, every line at its charge day's rate)."""
    title = f"Daily billed cost (cash), {currency or 'no currency'}, by provider"
    return _daily_by_provider(daily, "billed_cost", title, "No billed spend in this period", currency)


def priced_by_provider(daily: pl.DataFrame, currency: str = "USD") -> go.Figure:
    """Daily priced cost from the request logs (tokens x list prices) stacked by provider, from
    `data.daily_priced_by_provider` (in the reporting currency): the headline chart when no invoice is loaded."""
    title = f"Daily priced cost from the request logs (tokens × list prices), {currency}, by provider"
    return _daily_by_provider(daily, "cost_usd", title, "No priced requests in this period", currency)


def _daily_by_provider(daily: pl.DataFrame, column: str, title: str, nothing: str, currency: str | None
                       ) -> go.Figure:
    if daily.height == 0:
        return empty(title, nothing)
    fig = go.Figure()
    for i, ((provider,), part) in enumerate(sorted(daily.partition_by("provider", as_dict=True).items())):
        fig.add_trace(
            go.Bar(
                x=part["day"].to_list(),
                y=part[column].to_list(),
                name=provider_label(provider),
                marker={"color": PALETTE[i % len(PALETTE)], "line": {"width": 0}},
                hovertemplate=f"{provider_label(provider)}: {amount_hover(currency)}<extra></extra>",
            )
        )
    fig = _base(fig, title)
    # Stacked bars, not areas: credits are negative and some providers bill only on some days.
    fig.update_layout(barmode="relative", bargap=0.25, legend={"traceorder": "normal"})
    fig.update_yaxes(**amount_axis(currency), separatethousands=True, title=None, zerolinecolor="#9ca3af")
    fig.update_xaxes(title=None)
    return fig


def net_savings_bars(tasks: pl.DataFrame, column: str = "allocated_net_savings_usd", currency: str = "USD"
                     ) -> go.Figure:
    """Net savings per task, gains green and losses red, from `data.task_table`; with `roi_basis`, the catalog's
    estimates hatched and measured figures solid (docs/evidence.md)."""
    title = (f"Net savings by task on allocated cost (invoice-true), {currency}: people's time avoided − AI cost "
             "− review")
    basis = pl.col("roi_basis") if "roi_basis" in tasks.columns else pl.lit("catalog_estimate")
    if "roi_basis" in tasks.columns:
        title += " (solid: measured from work records; hatched: the catalog's estimate)"
    known = (tasks.filter(pl.col(column).is_not_null()).sort(column)
             .select("task", pl.col(column).alias("net_savings_usd"), basis.alias("roi_basis")))
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
            marker={"color": colors.to_list(),
                    "pattern": {"shape": ["" if b == "measured" else "/" for b in known["roi_basis"].to_list()],
                                "fillmode": "overlay", "fgopacity": 0.35}},
            customdata=["measured" if b == "measured" else "catalog estimate" for b in known["roi_basis"].to_list()],
            hovertemplate=f"%{{y}}: {amount_hover(currency, '%{x:,.2f}')} (%{{customdata}})<extra></extra>",
        )
    )
    fig = _base(fig, title, height=max(220, 90 + 44 * known.height))
    fig.update_layout(hovermode="closest", showlegend=False)
    fig.update_xaxes(**amount_axis(currency), separatethousands=True, zeroline=True, zerolinecolor="#9ca3af",
                     title=None)
    fig.update_yaxes(title=None, automargin=True)
    return fig


def _hbars(frame: pl.DataFrame, label: str, value: str, title: str, currency: str = "USD", color=PALETTE[0],
           decimals: int = 2) -> go.Figure:
    known = frame.filter(pl.col(value).is_not_null()).sort(value)
    if known.height == 0:
        return empty(title, "Nothing priced for these filters")
    colors = color if isinstance(color, str) else color(known)
    fig = go.Figure(go.Bar(x=known[value].to_list(), y=known[label].to_list(), orientation="h",
                           marker={"color": colors},
                           hovertemplate=f"%{{y}}: {amount_hover(currency, f'%{{x:,.{decimals}f}}')}<extra></extra>"))
    fig = _base(fig, title, height=max(220, 90 + 30 * known.height))
    fig.update_layout(hovermode="closest", showlegend=False)
    fig.update_xaxes(**amount_axis(currency), separatethousands=True, title=None, zerolinecolor="#9ca3af")
    fig.update_yaxes(title=None, automargin=True)
    return fig


def _model_label(models: pl.DataFrame) -> pl.DataFrame:
    return models.with_columns(
        (pl.col("model").fill_null("(no model)") + pl.lit(" · ")
         + pl.col("provider").replace_strict(PROVIDER_LABELS, default=pl.col("provider")).fill_null("?")).alias("label")
    )


def usd_per_mtok(models: pl.DataFrame, currency: str = "USD") -> go.Figure:
    """Effective rate per model: priced cost ÷ priced tokens, per million tokens (with this token mix)."""
    title = f"Effective cost per million tokens, {currency} (priced cost from logs ÷ priced tokens, this period's mix)"
    return _hbars(_model_label(models), "label", "usd_per_mtok", title, currency)


TOKEN_PARTS = [("input_tokens", "Input (uncached)", "#3b6ea8"), ("cache_read_tokens", "Cache read", "#6a9f58"),
               ("cache_write_tokens", "Cache write", "#d08c3f"), ("output_tokens", "Output", "#8a6bb1")]


def token_mix(models: pl.DataFrame) -> go.Figure:
    """Share of each model's tokens by type (a mix heavy on output or uncached input costs more per token)."""
    title = "Token mix by model, share of tokens (not a cost figure)"
    frame = _model_label(models).filter(pl.col("total_tokens") > 0).sort("total_tokens")
    if frame.height == 0:
        return empty(title, "No tokens logged for these filters")
    fig = go.Figure()
    for column, name, color in TOKEN_PARTS:
        share = (frame[column].cast(pl.Float64).fill_null(0) / frame["total_tokens"]).to_list()
        fig.add_trace(go.Bar(x=share, y=frame["label"].to_list(), orientation="h", name=name, marker={"color": color},
                             hovertemplate=f"{name}: %{{x:.1%}}<extra></extra>"))
    fig = _base(fig, title, height=max(240, 110 + 30 * frame.height))
    fig.update_layout(barmode="stack", hovermode="y unified")
    fig.update_xaxes(tickformat=".0%", range=[0, 1], title=None)
    fig.update_yaxes(title=None, automargin=True)
    return fig


def whatif_bars(whatif: pl.DataFrame, top: int = 12, currency: str = "USD") -> go.Figure:
    """The largest what-if savings (priced usage): the same tokens on another model."""
    title = f"What-if: savings from moving a task to another model, {currency} (priced usage, same tokens)"
    best = whatif.filter(pl.col("savings_usd") > 0).sort("savings_usd", descending=True).head(top).with_columns(
        (pl.col("task") + pl.lit(": ") + pl.col("model") + pl.lit(" → ") + pl.col("alt_model")).alias("label")
    )
    return _hbars(best, "label", "savings_usd", title, currency, color=GAIN)


def task_trend(trend: pl.DataFrame, task: str, currency: str = "USD") -> go.Figure:
    """One task per day: allocated cost (bars) and allocated cost per success (line), in `currency`."""
    title = f"{task}: allocated cost per day and cost per success, {currency} (invoice-true)"
    if trend.height == 0:
        return empty(title, "No runs of this task in the period")
    fig = go.Figure()
    fig.add_trace(go.Bar(x=trend["day"].to_list(), y=trend["allocated_cost_usd"].to_list(), name="Allocated cost",
                         marker={"color": PALETTE[0]}, hovertemplate=f"cost: {amount_hover(currency)}<extra></extra>"))
    fig.add_trace(go.Scatter(x=trend["day"].to_list(), y=trend["allocated_cost_per_success_usd"].to_list(),
                             name="Cost per success", yaxis="y2", mode="lines+markers",
                             line={"color": PALETTE[2], "width": 2}, marker={"size": 4},
                             hovertemplate=f"per success: {amount_hover(currency, '%{y:,.3f}')}<extra></extra>"))
    fig = _base(fig, title)
    fig.update_layout(yaxis={**amount_axis(currency), "title": None},
                      yaxis2={**amount_axis(currency), "overlaying": "y", "side": "right", "showgrid": False,
                              "title": None})
    return fig


def reconciliation_bars(recon: pl.DataFrame, currency: str = "USD") -> go.Figure:
    """Billed (cash, invoices) against priced logs per provider, over the period, in `currency`."""
    title = f"Invoices (billed, cash) against the logs (priced at list), {currency}, by provider"
    if recon.height == 0:
        return empty(title, "Nothing to reconcile in this period")
    per = recon.group_by("provider").agg(pl.col("billed_cost_usd").sum(), pl.col("logged_cost_usd").sum()).sort(
        "billed_cost_usd", descending=True)
    names = [provider_label(p) for p in per["provider"].to_list()]
    fig = go.Figure([
        go.Bar(x=names, y=per["billed_cost_usd"].to_list(), name="Billed (invoice)", marker={"color": PALETTE[0]},
               hovertemplate=f"billed: {amount_hover(currency)}<extra></extra>"),
        go.Bar(x=names, y=per["logged_cost_usd"].to_list(), name="Priced from logs", marker={"color": PALETTE[1]},
               hovertemplate=f"logs: {amount_hover(currency)}<extra></extra>"),
    ])
    fig = _base(fig, title)
    fig.update_layout(barmode="group")
    fig.update_yaxes(**amount_axis(currency), separatethousands=True, title=None)
    return fig


def waste_daily(daily: pl.DataFrame, currency: str = "USD") -> go.Figure:
    """Measured waste per day by category (recorded spend only; estimates are not money spent)."""
    title = f"Measured waste per day, {currency} (priced failed requests, retries; billed idle capacity)"
    if daily.height == 0:
        return empty(title, "No measured waste in this period")
    fig = go.Figure()
    for i, ((category,), part) in enumerate(sorted(daily.partition_by("category", as_dict=True).items())):
        name = CATEGORY_LABELS.get(category, category)
        fig.add_trace(go.Bar(x=part["day"].to_list(), y=part["cost_usd"].to_list(), name=name,
                             marker={"color": PALETTE[(i + 4) % len(PALETTE)]},
                             hovertemplate=f"{name}: {amount_hover(currency)}<extra></extra>"))
    fig = _base(fig, title)
    fig.update_layout(barmode="relative", bargap=0.25)
    fig.update_yaxes(**amount_axis(currency), separatethousands=True, title=None)
    return fig


def person_spend_bars(people: pl.DataFrame, currency: str = "USD", top: int = 25) -> go.Figure:
    """Per person, the seat cost and the usage billed beyond it, stacked, from `data.people_spend`."""
    title = (f"Seats and usage beyond them per person, {currency}: seats at subscription or list price, prorated; "
             "usage as billed or priced from the logs")
    shown = people.filter((pl.col("total_usd") > 0)).head(top).sort("total_usd")
    if shown.height == 0:
        return empty(title, "No seats or usage for these filters")
    names = shown["person"].fill_null(ORGANIZATION).to_list()
    fig = go.Figure()
    for column, name, color in (("seat_cost_usd", "Seats", PALETTE[0]), ("usage_cost_usd", "Usage beyond seats",
                                                                         PALETTE[2])):
        fig.add_trace(go.Bar(x=shown[column].fill_null(0).to_list(), y=names, orientation="h", name=name,
                             marker={"color": color, "line": {"width": 0}},
                             hovertemplate=f"%{{y}} · {name}: {amount_hover(currency, '%{x:,.2f}')}<extra></extra>"))
    fig = _base(fig, title, height=max(240, 110 + 28 * shown.height))
    fig.update_layout(barmode="stack", hovermode="closest")
    fig.update_xaxes(**amount_axis(currency), separatethousands=True, title=None)
    fig.update_yaxes(title=None, automargin=True)
    return fig
