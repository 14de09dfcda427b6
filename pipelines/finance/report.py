"""`aispend report --month YYYY-MM`: the month for leadership, one self-contained HTML file (docs/finance.md).

Spend (billed AI cost, against the previous month), savings (per task, saying whether measured or estimated from
the task catalog), the largest changes against the previous month, budgets, and the chargeback table. A closed
month reports its closed figures (they do not move) and says who closed it; an open month says its figures may
still move. Charts are inline SVG (pipelines/finance/svg.py), styles inline, no script and no link out: the
file opens anywhere, offline, and prints to PDF as it looks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from pipelines.config import AispendConfig
from pipelines.finance.close import next_month
from pipelines.finance.marts import chargeback_figures
from pipelines.finance.report_html import page
from pipelines.finance.svg import Series, bars
from pipelines.marts import Reads
from pipelines.transforms.roi import task_roi
from warehouse.db import Warehouse, query, sql

TOP_CHANGES = 10


@dataclass
class ReportData:
    month: date
    previous: date
    currency: str
    cost_basis: str
    closed: dict | None                 # closed_months row, or None while open
    figures: pl.DataFrame               # this month and the previous: month, provider, model, task, team, basis, cost
    savings: pl.DataFrame               # task_roi of this month's task_daily
    chargeback: pl.DataFrame            # the chargeback mart's rows of the month
    changes_after_close: pl.DataFrame   # this month's changes_after_close rows
    budgets: list[dict]
    generated_at: datetime

    def total(self, month: date) -> float:
        return float(self.figures.filter(pl.col("month") == month)["cost"].sum() or 0.0)

    def by(self, column: str, month: date) -> dict[str | None, float]:
        part = self.figures.filter(pl.col("month") == month).group_by(column).agg(pl.col("cost").sum())
        return dict(part.iter_rows())


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def gather(config: AispendConfig, month: date) -> ReportData:
    """Everything the report shows, read from the warehouse in one connection."""
    previous = previous_month(month)
    basis = config.finance.chargeback.cost_basis
    amount = "billed_cost" if basis == "billed" else "effective_cost"
    with Warehouse(config.warehouse_path).connect() as con:
        r = Reads(con, config)
        figures = (chargeback_figures(r).filter(pl.col("month").is_in([month, previous]))
                   .rename({amount: "cost"}).collect())
        closed = query(con, sql("report_closed_month"), [month]).to_dicts()
        days = (month, next_month(month))
        task_days = query(con, sql("read_window", table="task_daily", column="day",
                                   columns=["day", "task", "team", "runs", "successes", "failures", "requests",
                                            "unpriced_requests", "ai_cost_usd", "allocated_cost_usd"]), list(days))
        savings = task_roi(task_days.lazy(), r.table("tasks"), *month_evidence(r, days)).collect()
        rows = query(con, sql("chargeback_month"), [month])
        changes = query(con, sql("report_changes_after_close"), [month])
    currency = figures["currency"][0] if figures.height else config.reporting_currency
    data = ReportData(month, previous, currency, basis, closed[0] if closed else None, figures, savings, rows,
                      changes, [], datetime.now(timezone.utc))
    data.budgets = budget_rows(config, data)
    return data


def month_evidence(r: Reads, days: tuple[date, date]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """What makes a task's savings measured (docs/evidence.md): its task_evidence row, and the AI-assisted items
    closed in the month that the measured minutes saved multiply (as the dashboard's Tasks page for a period)."""
    evidence = r.table("task_evidence").filter(pl.col("grain") == "task")
    items = (r.table("evidence_items")
             .filter(pl.col("ai_assisted") & pl.col("minutes").is_not_null()
                     & (pl.col("day") >= days[0]) & (pl.col("day") < days[1]))
             .group_by("task").agg(pl.len().cast(pl.Int64).alias("items_ai")))
    return evidence, items


def budget_rows(config: AispendConfig, data: ReportData) -> list[dict]:
    """Each configured budget against the month's spend on the report's basis (a budget's filters applied)."""
    this = data.figures.filter(pl.col("month") == data.month)
    out = []
    for b in config.budgets:  # a handful of budgets
        part = this
        if b.provider:
            part = part.filter(pl.col("provider") == b.provider)
        if b.team:
            part = part.filter(pl.col("team") == b.team)
        actual = float(part["cost"].sum() or 0.0)
        share = actual / b.monthly_usd
        out.append({"name": b.name, "scope": ", ".join(f"{k} {v}" for k, v in (("provider", b.provider),
                                                                                ("team", b.team)) if v) or "all AI",
                    "budget": b.monthly_usd, "actual": actual, "share": share,
                    "status": "over" if share >= 1 else "warning" if share >= 0.8 else "ok"})
    return out


def top_changes(data: ReportData, n: int = TOP_CHANGES) -> list[dict]:
    """The largest moves against the previous month, by provider, team, task and model. Cost with no team or no
    model is left out of those two views: task `unattributed` already shows it, once."""
    out = []
    for column in ("provider", "team", "task", "model"):
        now, before = data.by(column, data.month), data.by(column, data.previous)
        for key in set(now) | set(before):
            delta = now.get(key, 0.0) - before.get(key, 0.0)
            if abs(delta) >= 0.005 and (key is not None or column not in ("team", "model")):
                out.append({"dimension": column, "name": key or "(none)", "before": before.get(key, 0.0),
                            "now": now.get(key, 0.0), "change": delta})
    return sorted(out, key=lambda r: (-abs(r["change"]), r["dimension"], r["name"]))[:n]


def render(data: ReportData) -> str:
    c = data.currency
    this, before = data.total(data.month), data.total(data.previous)
    providers = sorted(set(data.by("provider", data.month)) | set(data.by("provider", data.previous)),
                       key=lambda p: -data.by("provider", data.month).get(p, 0.0))
    teams = sorted(set(data.by("team", data.month)) | set(data.by("team", data.previous)),
                   key=lambda t: -data.by("team", data.month).get(t, 0.0))
    series = lambda col, keys: [Series(f"{m:%B %Y}", [data.by(col, m).get(k) for k in keys])  # noqa: E731
                                for m in (data.month, data.previous)]
    charts = {
        "provider": bars("AI spend by provider", [k or "(none)" for k in providers], series("provider", providers), c),
        "team": bars("AI spend by team", [k or "(no team: shared)" for k in teams], series("team", teams), c),
    }
    return page(data, this, before, charts, top_changes(data))


def write_report(config: AispendConfig, month: date, out: Path) -> Path:
    """Write the month's report to `out` (replaced atomically) and return the path."""
    html = render(gather(config, month))
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out

