"""Component ids, in one place so layouts, callbacks and browser tests agree on them."""

from __future__ import annotations

# app frame
URL = "aispend-url"  # our own Location: callbacks write the filters into its query string
NAV = "aispend-nav"

# shared filter bar pieces; each page prefixes them
DATES = "dates"
CHOICE = "choice"  # the provider (Overview) or team (Tasks) dropdown
PRESETS = "presets"
EMPTY = "empty-state"
PERIOD_LABEL = "period-label"
PERIOD_NOTE = "period-note"
NO_INVOICES = "no-invoices"  # scoped per page: the note shown when no invoice is loaded

# overview
OVERVIEW = "overview"
BILLED_CARDS = "overview-billed-cards"
BILLED_VALUE = "overview-billed-value"  # one per currency: billed_value(currency)
AI_SHARE_VALUE = "overview-ai-share"
PREVIOUS_VALUE = "overview-previous"  # one per currency: previous_value(currency)
REQUESTS_VALUE = "overview-requests"
PRICED_COST_VALUE = "overview-priced-cost"
COVERAGE_VALUE = "overview-coverage"
SPEND_CHART = "overview-spend-chart"
FORECAST_VALUE = "overview-forecast"
MTD_CARDS = "overview-month-to-date"
MTD_INVOICED_VALUE = "overview-mtd-invoiced"
MTD_EXPECTED_VALUE = "overview-mtd-expected"
NET_SAVINGS_VALUE = "overview-net-savings"
MEASURED_SAVINGS_VALUE = "overview-net-savings-measured"    # the measured part (docs/evidence.md)
ESTIMATED_SAVINGS_VALUE = "overview-net-savings-estimated"  # the catalog-estimated part

# evidence (measured time saved)
EVIDENCE = "evidence"

# tasks
TASKS = "tasks"
TASK_TABLE = "table-tasks"
TASK_CHART = "tasks-net-savings-chart"


def scoped(page: str, part: str) -> str:
    """The id of a shared filter-bar part on one page, e.g. scoped(OVERVIEW, DATES) -> 'overview-dates'."""
    return f"{page}-{part}"


def billed_value(currency: str) -> str:
    return f"{BILLED_VALUE}-{currency or 'none'}"


def previous_value(currency: str) -> str:
    return f"{PREVIOUS_VALUE}-{currency or 'none'}"


# tables and their CSV downloads (dashboard.tables): pattern-matching ids keyed by the table's name
CSV_BUTTON = "csv-button"
CSV_DOWNLOAD = "csv-download"


def table(name: str) -> str:
    return f"table-{name}"


def csv_button(name: str) -> dict:
    return {"type": CSV_BUTTON, "table": name}


def csv_download(name: str) -> dict:
    return {"type": CSV_DOWNLOAD, "table": name}


def choice(page: str, key: str) -> str:
    """A filter dropdown, e.g. choice('models', 'provider') -> 'models-provider'."""
    return f"{page}-{key}"


def chart(page: str, name: str) -> str:
    return f"{page}-chart-{name}"


MODELS = "models"
RECONCILIATION = "reconciliation"
WASTE = "waste"
HEALTH = "health"
PEOPLE = "people"
OVERVIEW_SEATS_VALUE = "overview-seats-off-bills"
