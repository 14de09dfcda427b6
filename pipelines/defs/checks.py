"""The checks of pipelines/checks.py as Dagster asset checks, so the UI shows each asset's verdicts.

The checks themselves (queries, thresholds, what passing means) live in pipelines/checks.py and are evaluated over
the data as it stands; every run also stores all of them in `check_results` (the `check_results` step), which is
what `aispend run` exits on. Here they are only wrapped: a few are reported by the asset that writes their table
(`inline_specs`/`inline_results`: the loads' quarantines, unique line ids, task_roi's totals), the rest are
`@asset_check` functions listed in ASSET_CHECKS. The usage checks judge usage_events from its per-day sums
(source_daily) and follow that asset in Dagster. Each result's metadata carries the first offending rows.
"""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg
import polars as pl

from pipelines import checks as core
from pipelines.config import AispendConfig
from pipelines.defs.resources import AispendResource
from pipelines.graph import BY_NAME
from pipelines.ingest import FileResult
from warehouse.db import connect_writer

SEVERITY = {core.ERROR: dg.AssetCheckSeverity.ERROR, core.WARN: dg.AssetCheckSeverity.WARN}
stale_sources = core.stale_sources


def _rows(frame: pl.DataFrame) -> dg.MetadataValue:
    """The first offending rows as a Markdown table (metadata for the UI and the run log)."""
    if not frame.height:
        return dg.MetadataValue.md("none")
    cells = [[("" if v is None else str(round(v, 4) if isinstance(v, float) else v)) for v in row]
             for row in frame.iter_rows()]
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    return dg.MetadataValue.md(header + "\n".join("| " + " | ".join(r) + " |" for r in cells))


def result(outcome: core.Outcome, *, inline: bool = False) -> dg.AssetCheckResult:
    extra = {"check_name": outcome.check, "asset_key": outcome.asset} if inline else {}
    return dg.AssetCheckResult(
        passed=outcome.passed, severity=SEVERITY[outcome.severity], description=outcome.description,
        metadata={"offending": outcome.offending, "first_rows": _rows(outcome.rows), **outcome.metadata}, **extra,
    )


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# --- checks an asset reports itself -------------------------------------------------------------------------

_INLINE = {
    "cost_lines": ["unique_line_ids"],
    "task_roi": ["accounts_for_all_usage"],
}


def _inline(step: str) -> list[core.Check]:
    names = (["no_quarantined_input"] if BY_NAME[step].step == "load" else []) + _INLINE.get(step, [])
    return [core.find(name, step) for name in names]


def inline_specs(step: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(c.name, asset=step, description=c.description) for c in _inline(step)]


def inline_results(step: str, config: AispendConfig, results: list[FileResult]) -> list[dg.AssetCheckResult]:
    found = _inline(step)
    if not found:
        return []
    con = connect_writer(config.warehouse_path)
    try:
        return [result(c.evaluate(con, config, _now()), inline=True) for c in found]
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


# --- checks that judge a whole table on their own -------------------------------------------------------------

def _asset_check(check: core.Check, *, blocking: bool = False, on: str | None = None) -> dg.AssetChecksDefinition:
    """`on`: the asset whose step the check follows when it reads that asset rather than the one it judges
    (the usage checks read usage_events' per-day sums, source_daily, so they run once those are built)."""

    @dg.asset_check(asset=on or check.asset, name=check.name, blocking=blocking, description=check.description)
    def _check(aispend: AispendResource) -> dg.AssetCheckResult:
        with aispend.writer() as (config, con):
            return result(check.evaluate(con, config, _now()))

    return _check


one_currency_per_account = _asset_check(core.ONE_CURRENCY, blocking=True)
every_currency_has_a_rate = _asset_check(core.EVERY_RATE, blocking=True)
no_null_cost_on_usage_lines = _asset_check(core.NULL_COST, blocking=True)
reconciled_within_tolerance = _asset_check(core.RECONCILED)
price_coverage = _asset_check(core.PRICE_COVERAGE, on="source_daily")
token_price_coverage = _asset_check(core.TOKEN_COVERAGE, on="source_daily")
usage_events_fresh = _asset_check(core.find("fresh_within_max_age", "usage_events"), on="source_daily")
cost_lines_fresh = _asset_check(core.find("fresh_within_max_age", "cost_lines"))

ASSET_CHECKS = [
    one_currency_per_account,
    every_currency_has_a_rate,
    no_null_cost_on_usage_lines,
    reconciled_within_tolerance,
    price_coverage,
    token_price_coverage,
    usage_events_fresh,
    cost_lines_fresh,
]
