"""What the dashboard reads, as Polars frames; pages call `data.<query>(snapshot_dir, ...)`.

- snapshots.py: how a snapshot is read safely while the pipeline republishes it (pinned files, the result cache,
  per-thread DuckDB connections, empty results typed from the migrations).
- period.py: what a view covers (Period, Filters) and the days with data.
- spend.py, tasks.py, evidence.py, models.py, reconciliation.py, waste.py, health.py, people.py, finance.py: the
  queries by page, each a thin call that runs one SQL file under dashboard/sql/ (`?` parameters only) through
  snapshots.read.

docs/dashboard.md says where each page's figures come from.
"""

from dashboard.data.evidence import evidence, evidence_spread, evidence_weekly
from dashboard.data.finance import (DEFAULT_CURRENCY, changes_after_close, closed_months, fx_coverage, month_to_date,
                                    reporting_currency)
from dashboard.data.health import checks, coverage, quarantined, sources
from dashboard.data.models import model_usage, whatif
from dashboard.data.people import (idle_seats, people_ledger, people_spend, people_totals, plan_fit, seats_off_bills,
                                  vendor_costs)
from dashboard.data.period import DEFAULT_PERIOD_DAYS, FIRST_DAY, LAST_DAY, Filters, Period, day_range, default_period
from dashboard.data.reconciliation import reconciliation, unattributed, unpriced
from dashboard.data.snapshots import has_snapshot, snapshot_files
from dashboard.data.spend import (anomalies, billed_spend, budgets, daily_billed_by_provider,
                                  daily_priced_by_provider, forecast, invoices_loaded, providers, usage_summary)
from dashboard.data.tasks import task_names, task_table, task_trend, teams
from dashboard.data.waste import waste_daily, waste_detail, waste_summary

__all__ = [
    "DEFAULT_CURRENCY", "DEFAULT_PERIOD_DAYS", "FIRST_DAY", "LAST_DAY", "Filters", "Period", "anomalies",
    "billed_spend", "budgets", "changes_after_close", "checks", "closed_months", "coverage", "fx_coverage",
    "month_to_date", "reporting_currency", "daily_billed_by_provider", "daily_priced_by_provider", "day_range",
    "default_period", "forecast", "has_snapshot", "invoices_loaded", "model_usage", "providers", "quarantined",
    "reconciliation", "snapshot_files", "sources", "task_names", "task_table",
    "task_trend", "teams", "unattributed", "unpriced", "usage_summary", "waste_daily", "waste_detail",
    "waste_summary", "whatif",
    "evidence", "evidence_spread", "evidence_weekly",
    # people & seats
    "idle_seats", "people_ledger", "people_spend", "people_totals", "plan_fit", "seats_off_bills", "vendor_costs",
]
