"""Every asset check: invariants (ERROR: a run with one failing is a failed run) and health signals (WARN:
someone should look, the numbers still stand). Queries live in warehouse/sql/check_*.sql; thresholds in the
config's `checks:` block. Each result's metadata carries the first offending rows.

Two kinds: checks an asset reports itself (`inline_specs`/`inline_results`: what its own run read, like the
units it quarantined, or the table it just wrote), and checks that judge the whole table on their own, whatever
partition a run loaded (the `@asset_check` functions below, listed in ASSET_CHECKS).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg
import polars as pl

from pipelines.config import AispendConfig
from pipelines.defs.resources import AispendResource
from pipelines.graph import BY_NAME
from pipelines.ingest import FileResult
from warehouse.db import connect_writer, query, sql

ERROR = dg.AssetCheckSeverity.ERROR
WARN = dg.AssetCheckSeverity.WARN


def _rows(frame: pl.DataFrame) -> dg.MetadataValue:
    """The first offending rows as a Markdown table (metadata for the UI and the run log)."""
    shown = frame.drop("offending", strict=False)
    if not shown.height:
        return dg.MetadataValue.md("none")
    cells = [[("" if v is None else str(round(v, 4) if isinstance(v, float) else v)) for v in row]
             for row in shown.iter_rows()]
    header = "| " + " | ".join(shown.columns) + " |\n|" + "---|" * len(shown.columns) + "\n"
    return dg.MetadataValue.md(header + "\n".join("| " + " | ".join(r) + " |" for r in cells))


def _offending(frame: pl.DataFrame) -> int:
    return int(frame["offending"][0]) if frame.height else 0


def _result(frame: pl.DataFrame, severity: dg.AssetCheckSeverity, ok: str, bad: str, **metadata
            ) -> dg.AssetCheckResult:
    n = _offending(frame)
    return dg.AssetCheckResult(
        passed=n == 0,
        severity=severity,
        description=ok if n == 0 else bad.format(n=n),
        metadata={"offending": n, "first_rows": _rows(frame), **metadata},
    )


def _run(aispend: AispendResource, name: str, params: list | None = None) -> tuple[AispendConfig, pl.DataFrame]:
    with aispend.writer() as (config, con):
        return config, query(con, sql(name), params)


# --- checks an asset reports itself -------------------------------------------------------------------------

def _quarantine(step: str, config: AispendConfig, results: list[FileResult], con) -> dg.AssetCheckResult:
    bad = [r.error for r in results if r.status == "quarantined"]
    return dg.AssetCheckResult(
        check_name="no_quarantined_input", asset_key=step, passed=not bad, severity=ERROR,
        description="every file read in this run validated" if not bad else f"{len(bad)} file(s) quarantined",
        metadata={"quarantined": dg.MetadataValue.md("\n".join(f"- {e}" for e in bad) or "none")},
    )


def _unique_line_ids(step: str, config: AispendConfig, results: list[FileResult], con) -> dg.AssetCheckResult:
    dupes = query(con, sql("check_duplicate_line_ids"))
    return dg.AssetCheckResult(
        check_name="unique_line_ids", asset_key=step, passed=dupes.height == 0, severity=ERROR,
        metadata={"duplicates": dg.MetadataValue.md(str(dupes.head(10)) if dupes.height else "none")},
    )


def _price_coverage(step: str, config: AispendConfig, results: list[FileResult], con) -> dg.AssetCheckResult:
    coverage = query(con, sql("price_coverage"))
    requests = int(coverage["requests"].sum() or 0) if coverage.height else 0
    unpriced = int(coverage["unpriced_requests"].fill_null(0).sum()) if coverage.height else 0
    share = 1.0 - unpriced / requests if requests else 1.0
    threshold = config.checks.min_price_coverage
    return dg.AssetCheckResult(
        check_name="price_coverage", asset_key=step, passed=share >= threshold, severity=WARN,
        metadata={"request_coverage": share, "min_price_coverage": threshold, "requests": requests,
                  "unpriced_requests": unpriced, "by_source": dg.MetadataValue.md(str(coverage))},
    )


def _accounts_for_all_usage(step: str, config: AispendConfig, results: list[FileResult], con
                            ) -> dg.AssetCheckResult:
    sums = query(con, sql("check_roi_matches_usage"), [config.reporting_currency]).to_dicts()[0]
    usage, roi = float(sums["usage_cost_usd"] or 0), float(sums["roi_cost_usd"] or 0)
    # Converted figures are summed in another order than the marts sum them: allow for float rounding.
    tolerance = 1e-6 if config.reporting_currency == "USD" else max(1e-6, 1e-9 * abs(usage))
    passed = sums["usage_requests"] == sums["roi_requests"] and abs(usage - roi) < tolerance
    return dg.AssetCheckResult(check_name="accounts_for_all_usage", asset_key=step, passed=passed, severity=ERROR,
                               metadata={k: float(v or 0) for k, v in sums.items()})


# step -> [(name, description, evaluate)]; every load also reports no_quarantined_input.
_INLINE = {
    "cost_lines": [("unique_line_ids", "x_line_id is unique", _unique_line_ids)],
    "usage_events": [("price_coverage", "Warns when under checks.min_price_coverage of requests have a price "
                      "(unpriced requests are never $0).", _price_coverage)],
    "task_roi": [("accounts_for_all_usage", "task_roi holds every request and every priced dollar of usage_events",
                  _accounts_for_all_usage)],
}
_QUARANTINE = ("no_quarantined_input", "A file that fails to parse or validate is quarantined whole; this check "
               "fails the run.", _quarantine)


def _inline(step: str) -> list:
    return ([_QUARANTINE] if BY_NAME[step].step == "load" else []) + _INLINE.get(step, [])


def inline_specs(step: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(name, asset=step, description=description) for name, description, _ in _inline(step)]


def inline_results(step: str, config: AispendConfig, results: list[FileResult]) -> list[dg.AssetCheckResult]:
    checks = _inline(step)
    if not checks:
        return []
    con = connect_writer(config.warehouse_path)
    try:
        return [evaluate(step, config, results, con) for _, _, evaluate in checks]
    finally:
        con.close()


def ingest_metadata(results: list[FileResult]) -> dict:
    """What a load read, for the run's metadata: units by status, rows, and what was quarantined."""
    if not results:
        return {}
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    quarantined = [r.error for r in results if r.status == "quarantined"]
    return {
        "files": len(results),
        "rows_loaded": sum(r.rows for r in results),
        **{f"files_{status}": n for status, n in sorted(by_status.items())},
        "quarantined": dg.MetadataValue.md("\n".join(f"- {e}" for e in quarantined) or "none"),
    }


# --- checks that judge a whole table ------------------------------------------------------------------------

@dg.asset_check(asset="cost_lines", name="one_currency_per_account", blocking=True,
                description="Every billing account's lines carry one BillingCurrency.")
def one_currency_per_account(aispend: AispendResource) -> dg.AssetCheckResult:
    _, frame = _run(aispend, "check_one_currency_per_account")
    return _result(frame, ERROR, "every billing account has one currency",
                   "{n} billing account(s) carry more than one currency")


@dg.asset_check(asset="cost_lines", name="no_null_cost_on_usage_lines", blocking=True,
                description="No Usage line lacks BilledCost or EffectiveCost (a missing cost would count as $0).")
def no_null_cost_on_usage_lines(aispend: AispendResource) -> dg.AssetCheckResult:
    _, frame = _run(aispend, "check_null_usage_cost")
    return _result(frame, ERROR, "every usage line has a billed and an effective cost",
                   "{n} usage line(s) without BilledCost or EffectiveCost")


@dg.asset_check(asset="cost_lines", name="every_currency_has_a_rate", blocking=True,
                description="Every line's currency has an exchange rate into the reporting currency on or before "
                "its charge day (the ECB's or the fx_rates file's); a line without one is never converted at 0 or 1.")
def every_currency_has_a_rate(aispend: AispendResource) -> dg.AssetCheckResult:
    config = aispend.config()
    _, frame = _run(aispend, "check_exchange_rates", [config.reporting_currency])
    return _result(frame, ERROR, f"every line converts into {config.reporting_currency}",
                   "{n} currency(ies) without a rate on a line's charge day: add them to the fx_rates file",
                   reporting_currency=config.reporting_currency)


@dg.asset_check(asset="reconciliation", name="reconciled_within_tolerance",
                description="Per provider and month, logs and invoice agree within checks.reconciliation_tolerance_pct.")
def reconciled_within_tolerance(aispend: AispendResource) -> dg.AssetCheckResult:
    tolerance = aispend.config().checks.reconciliation_tolerance_pct
    _, frame = _run(aispend, "check_reconciliation_tolerance", [tolerance])
    return _result(frame, WARN, f"every provider-month within {tolerance:g}%",
                   "{n} provider-month(s) differ by more than " + f"{tolerance:g}% of the billed cost",
                   tolerance_pct=tolerance)


@dg.asset_check(asset="usage_events", name="token_price_coverage",
                description="Per source, at least checks.min_price_coverage of tokens have a price.")
def token_price_coverage(aispend: AispendResource) -> dg.AssetCheckResult:
    threshold = aispend.config().checks.min_price_coverage
    _, frame = _run(aispend, "check_price_coverage_by_tokens", [threshold])
    return _result(frame, WARN, f"every source has at least {threshold:.0%} of its tokens priced",
                   "{n} source(s) with under " + f"{threshold:.0%} of tokens priced (model_aliases or "
                   "prices.overrides fix this)", min_price_coverage=threshold)


def stale_sources(newest: pl.DataFrame, config: AispendConfig, table: str, now: datetime) -> pl.DataFrame:
    """The configured sources of `table` whose newest row is older than checks.max_age_hours (or absent)."""
    now = now.astimezone(timezone.utc).replace(tzinfo=None)  # the warehouse stores naive UTC
    limit = now - timedelta(hours=config.checks.max_age_hours)
    configured = pl.DataFrame({"source": [s.name for s in config.sources if s.table == table]},
                              schema={"source": pl.String})
    have = newest.filter(pl.col("table") == table).select("source", "newest", "rows")
    return (
        configured.join(have, on="source", how="left")
        .with_columns(age_hours=(pl.lit(now) - pl.col("newest")).dt.total_seconds() / 3600)
        .filter(pl.col("newest").is_null() | (pl.col("newest") < limit))
        .with_columns(offending=pl.len())
        .sort("source")
    )


def _fresh_check(table: str, column: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=table, name="fresh_within_max_age",
                    description=f"Each configured source's newest {column} is at most checks.max_age_hours old.")
    def _check(aispend: AispendResource) -> dg.AssetCheckResult:
        config, newest = _run(aispend, "check_freshness")
        now = datetime.now(timezone.utc)
        stale = stale_sources(newest, config, table, now)
        hours = config.checks.max_age_hours
        return _result(stale, WARN, f"every {table} source has rows from the last {hours:g} h",
                       "{n} source(s) with nothing newer than " + f"{hours:g} h (or no rows)",
                       max_age_hours=hours, checked_at=now.isoformat(timespec="seconds"))

    return _check


usage_events_fresh = _fresh_check("usage_events", "event_time")
cost_lines_fresh = _fresh_check("cost_lines", "ChargePeriodEnd")

ASSET_CHECKS = [
    one_currency_per_account,
    every_currency_has_a_rate,
    no_null_cost_on_usage_lines,
    reconciled_within_tolerance,
    token_price_coverage,
    usage_events_fresh,
    cost_lines_fresh,
]
