"""The model tables, shared by the Models page and the Tasks drill-down (page modules cannot import each other:
Dash loads them under its own module names)."""

from __future__ import annotations

from dashboard import data, figures, tables
from dashboard.tables import Column, Table


def _tokens(value):
    if value is None:
        return "—"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{suffix}"
    return f"{value:,}"


MODEL_USAGE = tables.register(Table(
    "models",
    data.model_usage,
    (
        Column("model", "Model", numeric=False),
        Column("provider", "Provider", figures.provider_label, numeric=False),
        Column("requests", "Requests", figures.count),
        Column("unpriced_requests", "Unpriced", figures.count),
        Column("input_tokens", "Input", _tokens),
        Column("cache_read_tokens", "Cache read", _tokens),
        Column("cache_write_tokens", "Cache write", _tokens),
        Column("output_tokens", "Output", _tokens),
        Column("cost_usd", "Priced cost", figures.money),
        Column("usd_per_mtok", "per M tokens", figures.money),
    ),
    row_class=lambda r: "warn" if r["unpriced_requests"] else None,
))
WHATIF = tables.register(Table(
    "whatif",
    data.whatif,
    (
        Column("task", "Task", numeric=False),
        Column("model", "Now", numeric=False),
        Column("alt_model", "Instead", numeric=False),
        Column("current_cost_usd", "Cost now", figures.money),
        Column("alt_cost_usd", "Cost instead", figures.money),
        Column("savings_usd", "Savings", figures.money),
        Column("savings_pct", "Savings %", lambda v: figures.percent(v, 0)),
        Column("current_success_rate", "Success now", lambda v: figures.percent(v, 0)),
        Column("alt_success_rate", "Success instead (observed)", lambda v: figures.percent(v, 0)),
        Column("alt_runs", "Runs instead", figures.count),
    ),
))
