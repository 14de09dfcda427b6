"""Overview: billed spend from the invoices, the request logs' totals, and this month's forecast, budgets and
anomalies.

Invoices name who billed ('Amazon Web Services'), logs the genai-prices id ('aws'). Every page filters by the id:
the invoice side is mapped with the pipeline's own rule (`invoice_provider`), once per snapshot, and joined in
SQL (dashboard/sql/spend.sql).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl

from dashboard.data.period import Filters, Period
from dashboard.data.snapshots import read
from pipelines.transforms.providers import invoice_provider


def _provider_map(snapshot_dir: str | Path) -> pl.DataFrame:
    keys = read(snapshot_dir, "spend_keys", "spend_daily")
    return keys.with_columns(invoice_provider().alias("provider_id"))


def _spend(snapshot_dir: str | Path, query: str, params: list) -> pl.DataFrame:
    return read(snapshot_dir, ("spend", query), "spend_daily", params,
                frames=lambda: {"provider_map": _provider_map(snapshot_dir)})


def billed_spend(snapshot_dir: str | Path, period: Period, provider: str | None = None) -> pl.DataFrame:
    """Billed (cash) cost per billing currency, and the AI part of it, each also in the reporting currency.
    Amounts in different billing currencies are never summed together; their reporting-currency ones are."""
    return _spend(snapshot_dir, "billed_spend", [period.start, period.end, provider, provider])


def daily_billed_by_provider(
    snapshot_dir: str | Path, period: Period, currency: str | None, provider: str | None = None
) -> pl.DataFrame:
    """Billed cost per day and provider id in the reporting currency `currency` (a chart shows one cost figure,
    one currency): every line converted at its charge day's rate."""
    return _spend(snapshot_dir, "daily_billed_by_provider", [currency, period.start, period.end, provider, provider])


def providers(snapshot_dir: str | Path) -> list[str]:
    """Provider ids (genai-prices) seen on the invoices or in the logs."""
    from_spend = _provider_map(snapshot_dir)["provider_id"].drop_nulls().to_list()
    from_logs = read(snapshot_dir, "log_providers", "usage_daily")["provider"].drop_nulls().to_list()
    return sorted(set(from_spend) | set(from_logs))


def usage_summary(
    snapshot_dir: str | Path, period: Period, team: str | None = None, provider: str | None = None
) -> pl.DataFrame:
    """One row: requests, unpriced requests, priced cost from the logs (reporting currency) and price coverage.

    The priced cost counts priced requests only; unpriced ones are not $0, they are outside the figure.
    """
    params = [period.start, period.end, team, team, provider, provider]
    return read(snapshot_dir, "usage_summary", "usage_daily", params)


def invoices_loaded(snapshot_dir: str | Path) -> bool:
    """Whether the pipeline has loaded any invoice line at all; a person's own agent logs come with none, and
    the pages then say so instead of showing $0 billed (docs/dashboard.md)."""
    return bool(read(snapshot_dir, "invoice_lines", "spend_daily")["days"].sum())


def daily_priced_by_provider(
    snapshot_dir: str | Path, period: Period, team: str | None = None, provider: str | None = None
) -> pl.DataFrame:
    """Priced cost from the logs (USD) per day and provider; unpriced requests are outside it, never $0."""
    params = [period.start, period.end, team, team, provider, provider]
    return read(snapshot_dir, "daily_priced_by_provider", "usage_daily", params)


def forecast(snapshot_dir: str | Path, provider: str | None = None, team: str | None = None) -> pl.DataFrame:
    """This month's forecast (allocated AI cost) for the total, or the provider or team asked for."""
    scope, value = ("provider", provider) if provider else ("team", team) if team else ("total", None)
    return read(snapshot_dir, "forecast", "spend_forecast", [scope, value])


def budgets(snapshot_dir: str | Path, f: Filters) -> pl.DataFrame:
    """Each configured budget that applies to the provider and team asked for, this month."""
    return read(snapshot_dir, "budgets", "budget_status", [f.provider, f.provider, f.team, f.team])


def anomalies(snapshot_dir: str | Path, f: Filters, days: int = 7) -> pl.DataFrame:
    """Flagged days (priced usage) in the last `days` days of the period, newest first."""
    start = max(f.period.start, f.period.end - timedelta(days=days - 1))
    return read(snapshot_dir, "anomalies", "anomalies", [start, f.period.end, f.provider, f.provider, f.team, f.team])
