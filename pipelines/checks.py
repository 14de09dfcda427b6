"""Every check, free of Dagster: invariants ("error": the numbers are wrong, the run fails) and health signals
("warn": someone should look, the numbers stand), each a query over the warehouse as it stands.

Every run ends by evaluating all of them over the current data and storing the results in `check_results`
(`record`), whatever the run loaded: a check's verdict changes when the data changes, never because a run
happened to skip the asset it judges. `aispend run` exits on those stored results, the Data health page shows
them (when, why, since when), and the Dagster asset checks (pipelines/defs/checks.py) report the same
evaluations in the UI. Queries live in warehouse/sql/check_*.sql, thresholds in the config's `checks:` block
(docs/operations.md, "The checks and what to do when one fails").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import duckdb
import polars as pl

from pipelines.config import AispendConfig
from pipelines.schemas import TIME_COLUMNS
from warehouse.db import query, replace_rows, sql, transaction
from warehouse.schema import table_schema

ERROR, WARN = "error", "warn"
TASK_CATALOG = "task_catalog"


@dataclass(frozen=True)
class Outcome:
    """One check's verdict: passed or not, a sentence saying what was found, and the first offending rows."""

    check: str
    asset: str
    severity: str
    passed: bool
    description: str
    offending: int = 0
    rows: pl.DataFrame = field(default_factory=pl.DataFrame)
    metadata: dict = field(default_factory=dict)


Evaluate = Callable[[duckdb.DuckDBPyConnection, AispendConfig, datetime], Outcome]


@dataclass(frozen=True)
class Check:
    name: str
    asset: str
    severity: str
    description: str
    evaluate: Evaluate


def _offending(frame: pl.DataFrame) -> int:
    return int(frame["offending"][0]) if frame.height and "offending" in frame.columns else frame.height


def _outcome(check: Check, frame: pl.DataFrame, ok: str, bad: str, **metadata) -> Outcome:
    n = _offending(frame)
    return Outcome(check.name, check.asset, check.severity, n == 0, ok if n == 0 else bad.format(n=n), n,
                   frame.drop("offending", strict=False), metadata)


def _sources_of(config: AispendConfig, table: str) -> list[str]:
    if table == "tasks":  # the catalog is one file: its latest attempt, wherever the config points
        return [TASK_CATALOG] if config.task_catalog else []
    return [s.name for s in config.sources if s.table == table]


def no_quarantined_input(table: str) -> Check:
    def evaluate(con, config, now) -> Outcome:
        frame = query(con, sql("check_quarantined"), [_sources_of(config, table)])
        return _outcome(check, frame, "every file and page of its sources loaded",
                        "{n} file(s) or page(s) quarantined: nothing of them is loaded")

    check = Check("no_quarantined_input", table, ERROR, "A file or page that fails to parse or validate is "
                  "quarantined whole; the check fails until it loads (or leaves its source).", evaluate)
    return check


def _unique_line_ids(con, config, now) -> Outcome:
    frame = query(con, sql("check_duplicate_line_ids"))
    return _outcome(UNIQUE_LINE_IDS, frame, "every line id is unique", "{n} line id(s) occur more than once")


def _one_currency(con, config, now) -> Outcome:
    frame = query(con, sql("check_one_currency_per_account"))
    return _outcome(ONE_CURRENCY, frame, "every billing account has one currency",
                    "{n} billing account(s) carry more than one currency")


def _null_cost(con, config, now) -> Outcome:
    frame = query(con, sql("check_null_usage_cost"))
    return _outcome(NULL_COST, frame, "every usage line has the costs its export provides",
                    "{n} usage line(s) lack a cost their export provides (it would count as $0)")


def _reconciled(con, config, now) -> Outcome:
    tolerance = config.checks.reconciliation_tolerance_pct
    frame = query(con, sql("check_reconciliation_tolerance"), [tolerance])
    return _outcome(RECONCILED, frame, f"every provider-month within {tolerance:g}%",
                    "{n} provider-month(s) differ by more than " + f"{tolerance:g}% of the billed cost",
                    tolerance_pct=tolerance)


def _token_coverage(con, config, now) -> Outcome:
    threshold = config.checks.min_price_coverage
    frame = query(con, sql("check_price_coverage_by_tokens"), [threshold])
    return _outcome(TOKEN_COVERAGE, frame, f"every source has at least {threshold:.0%} of its tokens priced",
                    "{n} source(s) with under " + f"{threshold:.0%} of tokens priced (model_aliases or "
                    "prices.overrides fix this)", min_price_coverage=threshold)


def _request_coverage(con, config, now) -> Outcome:
    coverage = query(con, sql("price_coverage"))
    requests = int(coverage["requests"].sum() or 0) if coverage.height else 0
    unpriced = int(coverage["unpriced_requests"].fill_null(0).sum()) if coverage.height else 0
    share = 1.0 - unpriced / requests if requests else 1.0
    threshold = config.checks.min_price_coverage
    passed = share >= threshold
    return Outcome(PRICE_COVERAGE.name, PRICE_COVERAGE.asset, WARN, passed,
                   f"{share:.1%} of {requests:,} requests priced ({unpriced:,} unpriced, never counted as $0)",
                   0 if passed else unpriced, coverage,
                   {"request_coverage": share, "min_price_coverage": threshold, "requests": requests,
                    "unpriced_requests": unpriced})


def _all_usage(con, config, now) -> Outcome:
    currency = config.reporting_currency
    sums = query(con, sql("check_roi_matches_usage"), [currency]).to_dicts()[0]
    usage, roi = float(sums["usage_cost_usd"] or 0), float(sums["roi_cost_usd"] or 0)
    # Converted figures are summed in another order than the marts sum them: allow for float rounding.
    tolerance = 1e-6 if currency == "USD" else max(1e-6, 1e-9 * abs(usage))
    passed = sums["usage_requests"] == sums["roi_requests"] and abs(usage - roi) < tolerance
    description = ("task_roi holds every request and priced amount of usage_events" if passed else
                   f"task_roi holds {sums['roi_requests']:,} requests and {roi:,.2f} {currency}; "
                   f"usage_events {sums['usage_requests']:,} and {usage:,.2f} {currency}")
    return Outcome(ALL_USAGE.name, ALL_USAGE.asset, ERROR, passed, description, 0 if passed else 1,
                   pl.DataFrame([sums]), {k: float(v or 0) for k, v in sums.items()})


def _every_rate(con, config, now) -> Outcome:
    currency = config.reporting_currency
    frame = query(con, sql("check_exchange_rates"), [currency])
    return _outcome(EVERY_RATE, frame, f"every line converts into {currency}",
                    "{n} currency(ies) without a rate on a line's charge day: add them to the fx_rates file",
                    reporting_currency=currency)


def stale_sources(newest: pl.DataFrame, config: AispendConfig, table: str, now: datetime) -> pl.DataFrame:
    """The configured sources of `table` whose newest row is older than checks.max_age_hours (or absent)."""
    now = now.astimezone(timezone.utc).replace(tzinfo=None) if now.tzinfo else now  # the warehouse holds naive UTC
    limit = now - timedelta(hours=config.checks.max_age_hours)
    configured = pl.DataFrame({"source": _sources_of(config, table)}, schema={"source": pl.String})
    have = newest.filter(pl.col("table") == table).select("source", "newest", "rows")
    return (
        configured.join(have, on="source", how="left")
        .with_columns(age_hours=(pl.lit(now) - pl.col("newest")).dt.total_seconds() / 3600)
        .filter(pl.col("newest").is_null() | (pl.col("newest") < limit))
        .with_columns(offending=pl.len())
        .sort("source")
    )


def fresh_within_max_age(table: str) -> Check:
    column = "event_time" if table == "usage_events" else "ChargePeriodEnd"

    def evaluate(con, config, now) -> Outcome:
        stale = stale_sources(query(con, sql("check_freshness")), config, table, now)
        hours = config.checks.max_age_hours
        age = f"{hours:g} h" if hours <= 72 else f"{hours / 24:,.0f} days"
        return _outcome(check, stale, f"every {table} source has rows from the last {age}",
                        "{n} source(s) with nothing newer than " + f"{age} (or no rows)",
                        max_age_hours=hours, checked_at=now.isoformat(timespec="seconds"))

    check = Check("fresh_within_max_age", table, WARN,
                  f"Each configured source's newest {column} is at most checks.max_age_hours old.", evaluate)
    return check


UNIQUE_LINE_IDS = Check("unique_line_ids", "cost_lines", ERROR, "x_line_id is unique", _unique_line_ids)
ONE_CURRENCY = Check("one_currency_per_account", "cost_lines", ERROR,
                     "Every billing account's lines carry one BillingCurrency.", _one_currency)
NULL_COST = Check("no_null_cost_on_usage_lines", "cost_lines", ERROR,
                  "No Usage line lacks a cost its export provides (a missing cost would count as $0); an export "
                  "that provides one cost only (Azure actual or amortized) is judged on that one.", _null_cost)
EVERY_RATE = Check("every_currency_has_a_rate", "cost_lines", ERROR,
                   "Every line's currency has an exchange rate into the reporting currency on or before its charge "
                   "day (the ECB's or the fx_rates file's); a line without one is never converted at 0 or 1.",
                   _every_rate)
RECONCILED = Check("reconciled_within_tolerance", "reconciliation", WARN,
                   "Per provider and month, logs and invoice agree within checks.reconciliation_tolerance_pct.",
                   _reconciled)
TOKEN_COVERAGE = Check("token_price_coverage", "usage_events", WARN,
                       "Per source, at least checks.min_price_coverage of tokens have a price.", _token_coverage)
PRICE_COVERAGE = Check("price_coverage", "usage_events", WARN, "Warns when under checks.min_price_coverage of "
                       "requests have a price (unpriced requests are never $0).", _request_coverage)
ALL_USAGE = Check("accounts_for_all_usage", "task_roi", ERROR,
                  "task_roi holds every request and every priced dollar of usage_events", _all_usage)

# Every check, in the order a reader of the results meets them: inputs, then bills, usage, then marts.
CHECKS: tuple[Check, ...] = (
    *(no_quarantined_input(t) for t in ("tasks", *TIME_COLUMNS)),
    UNIQUE_LINE_IDS, ONE_CURRENCY, EVERY_RATE, NULL_COST,
    *(fresh_within_max_age(t) for t in ("cost_lines", "usage_events")),
    PRICE_COVERAGE, TOKEN_COVERAGE, RECONCILED, ALL_USAGE,
)


def find(name: str, asset: str) -> Check:
    return next(c for c in CHECKS if c.name == name and c.asset == asset)


def evaluate_all(con: duckdb.DuckDBPyConnection, config: AispendConfig, now: datetime | None = None
                 ) -> list[Outcome]:
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    return [check.evaluate(con, config, now) for check in CHECKS]


def record(con: duckdb.DuckDBPyConnection, config: AispendConfig, now: datetime | None = None) -> pl.DataFrame:
    """Evaluate every check and replace `check_results` with the verdicts, in one transaction; a verdict that did
    not change keeps the moment it last changed (`changed_at`: "failing since")."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    outcomes = evaluate_all(con, config, now)
    before = {(r["check_name"], r["asset"]): r for r in query(con, sql("read_check_results")).to_dicts()}
    rows = []
    for o in outcomes:
        last = before.get((o.check, o.asset))
        changed = last["changed_at"] if last is not None and last["passed"] == o.passed else now
        rows.append({"check_name": o.check, "asset": o.asset, "severity": o.severity, "passed": o.passed,
                     "description": o.description, "offending": o.offending, "details": _details(o.rows),
                     "evaluated_at": now, "changed_at": changed})
    frame = pl.DataFrame(rows, schema=table_schema("check_results"))
    with transaction(con):
        replace_rows(con, "check_results", frame, atomic=False)
    return frame


def _details(rows: pl.DataFrame) -> str | None:
    """The first offending rows as JSON lines (times as ISO text), or None when there are none."""
    if not rows.height:
        return None
    return rows.head(20).write_ndjson().strip()


def failing(results: pl.DataFrame, severity: str) -> list[dict]:
    """The stored results that did not pass, at one severity."""
    return results.filter(~pl.col("passed") & (pl.col("severity") == severity)).to_dicts()
