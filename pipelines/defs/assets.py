"""Assets: one per warehouse table, each a few lines around a step in pipelines.steps.

`build_assets(start)` makes them for partitions starting at `start` (the config's start_date): usage_events,
usage_daily and task_daily by UTC day, cost_lines and spend_daily by billing month; a range backfill is one
run over the whole range. The other marts are small rollups, unpartitioned and rebuilt whole.
Ingest assets retry transient failures (storage or network) with exponential backoff; bad input is never
retried: it is quarantined and fails the `no_quarantined_input` check.
"""

from collections.abc import Callable
from datetime import date

import dagster as dg
import polars as pl

from pipelines import steps
from pipelines.defs import partitions
from pipelines.defs.resources import AispendResource
from pipelines.ingest import FileResult
from warehouse.db import query, sql

INGEST = "ingest"
MARTS = "marts"
RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


class TransientFailure(Exception):
    """Some units could not be fetched (S3 or network trouble); everything else loaded. Retried by RETRY."""


def _fail_if_transient(results: list[FileResult]) -> None:
    failed = [r for r in results if r.status == "failed"]
    if failed:
        listed = "; ".join(r.error or r.location for r in failed[:5])
        raise TransientFailure(f"{len(failed)} unit(s) failed transiently and were not loaded: {listed}")


def _ingest_metadata(results: list[FileResult]) -> dict:
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


def _quarantine_check(asset: str, results: list[FileResult]) -> dg.AssetCheckResult:
    bad = [r.error for r in results if r.status == "quarantined"]
    return dg.AssetCheckResult(
        check_name="no_quarantined_input",
        asset_key=asset,
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        description="every file read in this run validated" if not bad else f"{len(bad)} file(s) quarantined",
        metadata={"quarantined": dg.MetadataValue.md("\n".join(f"- {e}" for e in bad) or "none")},
    )


def _quarantine_spec(asset: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "no_quarantined_input",
        asset=asset,
        description="A file that fails to parse or validate is quarantined whole; this check fails the run.",
    )


def _sum(column: str) -> Callable[[pl.DataFrame], dict]:
    return lambda frame: {column: float(frame[column].sum() or 0) if frame.height else 0.0}


def build_assets(start: date = partitions.DEFAULT_START) -> list[dg.AssetsDefinition]:
    """Every asset, with daily and monthly partitions starting at `start`."""
    daily, monthly = partitions.daily(start), partitions.monthly(start)

    @dg.asset(group_name=INGEST, description="Dated model prices: genai-prices' bundled table plus config overrides.")
    def prices(context: dg.AssetExecutionContext, aispend: AispendResource) -> dg.MaterializeResult:
        with aispend.writer() as (config, con):
            table, version = steps.load_prices(con, config, context.log.info)
            steps.publish(con, config, "prices")
        return dg.MaterializeResult(metadata={"rows": table.height, "price_version": version})

    @dg.asset(group_name=INGEST, description="The task catalog: what a run of each task is worth in people's time.")
    def tasks(context: dg.AssetExecutionContext, aispend: AispendResource) -> dg.MaterializeResult:
        with aispend.writer() as (config, con):
            result = steps.load_tasks(con, config, context.log.info)
            steps.publish(con, config, "tasks")
        if result is not None and result.status == "quarantined":
            raise dg.Failure(description=result.error, allow_retries=False)
        return dg.MaterializeResult(metadata={"tasks": result.rows if result else 0})

    @dg.asset(
        group_name=INGEST,
        partitions_def=monthly,
        backfill_policy=partitions.SINGLE_RUN,
        retry_policy=RETRY,
        description="Every billed line from the cost sources, in FOCUS 1.2 columns. Partitioned by billing month: "
                    "a run reads the month units of its months, the day units inside them, and undated files.",
        check_specs=[
            _quarantine_spec("cost_lines"),
            dg.AssetCheckSpec("unique_line_ids", asset="cost_lines", description="x_line_id is unique"),
        ],
    )
    def cost_lines(context: dg.AssetExecutionContext, aispend: AispendResource) -> dg.MaterializeResult:
        config = aispend.config()
        db = aispend.warehouse(config)
        results = steps.load_cost_lines(db, config, context.log.info, partitions.window(context))
        with db.connect() as con:
            dupes = query(con, sql("check_duplicate_line_ids"))
            totals = query(con, sql("cost_totals"))
            steps.publish(con, config)
        _fail_if_transient(results)
        return dg.MaterializeResult(
            metadata={
                **_ingest_metadata(results),
                "table_rows": int(totals["n"].sum()) if totals.height else 0,
                **{f"billed_cost_{r['currency']}": float(r["billed"] or 0) for r in totals.to_dicts()},
            },
            check_results=[
                _quarantine_check("cost_lines", results),
                dg.AssetCheckResult(
                    check_name="unique_line_ids",
                    passed=dupes.height == 0,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"duplicates": dg.MetadataValue.md(str(dupes.head(10)) if dupes.height else "none")},
                ),
            ],
        )

    @dg.asset(
        group_name=INGEST,
        deps=[prices],
        partitions_def=daily,
        backfill_policy=partitions.SINGLE_RUN,
        retry_policy=RETRY,
        description="One row per model request from the usage logs, priced with the price in force on its date. "
                    "Partitioned by UTC day: a run reads the day units of its days (and undated files).",
        check_specs=[
            _quarantine_spec("usage_events"),
            dg.AssetCheckSpec(
                "price_coverage", asset="usage_events",
                description="Warns when under 95% of requests have a price (unpriced requests are never $0).",
            ),
        ],
    )
    def usage_events(context: dg.AssetExecutionContext, aispend: AispendResource) -> dg.MaterializeResult:
        config = aispend.config()
        db = aispend.warehouse(config)
        results = steps.load_usage_events(db, config, context.log.info, partitions.window(context))
        with db.connect() as con:
            coverage = query(con, sql("price_coverage"))
            steps.publish(con, config)
        _fail_if_transient(results)
        requests = int(coverage["requests"].sum() or 0) if coverage.height else 0
        unpriced = int(coverage["unpriced_requests"].fill_null(0).sum()) if coverage.height else 0
        share = 1.0 - unpriced / requests if requests else 1.0
        return dg.MaterializeResult(
            metadata={**_ingest_metadata(results), "requests": requests, "unpriced_requests": unpriced,
                      "price_coverage": share},
            check_results=[
                _quarantine_check("usage_events", results),
                dg.AssetCheckResult(
                    check_name="price_coverage",
                    passed=share >= 0.95,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"request_coverage": share, "by_source": dg.MetadataValue.md(str(coverage))},
                ),
            ],
        )

    def mart(name, deps, description, build, summary=lambda frame: {}, partitions_def=None):
        """A mart asset: rebuild the table (or, partitioned, its window's rows), publish its snapshot."""

        @dg.asset(name=name, group_name=MARTS, deps=deps, description=description, partitions_def=partitions_def,
                  backfill_policy=partitions.SINGLE_RUN if partitions_def else None)
        def _mart(context: dg.AssetExecutionContext, aispend: AispendResource) -> dg.MaterializeResult:
            window = partitions.window(context) if partitions_def else None
            with aispend.writer() as (config, con):
                frame = build(con, config, window)
                steps.publish(con, config, name)
            return dg.MaterializeResult(metadata={"rows": frame.height, **summary(frame)})

        return _mart

    spend_daily = mart("spend_daily", [cost_lines], "Billed and effective cost per day, provider, service, model.",
                       lambda con, config, w: steps.build_spend_daily(con, w), _sum("billed_cost"), monthly)
    usage_daily = mart("usage_daily", [usage_events],
                       "Requests, tokens and priced cost per day, provider, model, task, team.",
                       lambda con, config, w: steps.build_usage_daily(con, w), _sum("cost_usd"), daily)
    allocated_cost = mart("allocated_cost", [cost_lines, usage_daily],
                          "Billed AI cost allocated to tasks and teams by their priced usage per provider, model and day.",
                          lambda con, config, w: steps.build_allocated_cost(con), _sum("billed_cost_usd"))
    # A day's runs are counted on their first request's day: the rebuild reads a day either side.
    around = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=1, allow_nonexistent_upstream_partitions=True)
    task_daily = mart("task_daily", [dg.AssetDep(usage_events, partition_mapping=around), allocated_cost],
                      "Runs, outcomes, priced and allocated cost per day, task, team.",
                      lambda con, config, w: steps.build_task_daily(con, w), _sum("runs"), daily)
    reconciliation = mart("reconciliation", [cost_lines, usage_events],
                          "Logs against invoices per provider, model and month or day, the gap in named parts.",
                          lambda con, config, w: steps.build_reconciliation(con), _sum("difference_usd"))
    model_whatif = mart("model_whatif", [usage_events, tasks, prices],
                        "Each task's real token mix repriced on alternative models.",
                        lambda con, config, w: steps.build_model_whatif(con, config), _sum("savings_usd"))
    waste = mart("waste", [usage_events, cost_lines, tasks, prices],
                 "Spend on failures, retries, interactive work that could be batch, missed caching, idle capacity.",
                 lambda con, config, w: steps.build_waste(con, config), _sum("cost_usd"))
    anomalies = mart("anomalies", [usage_daily], "Daily spend per provider, model and team against a robust baseline.",
                     lambda con, config, w: steps.build_anomalies(con),
                     lambda frame: {"anomalies": int(frame["is_anomaly"].sum() or 0) if frame.height else 0})
    budget_status = mart("budget_status", [allocated_cost],
                         "Each configured budget this month: actual, forecast, thresholds.",
                         lambda con, config, w: steps.build_budget_status(con, config),
                         lambda frame: {"over_or_warning": int(frame.filter(pl.col("status") != "ok").height)})
    spend_forecast = mart("spend_forecast", [allocated_cost],
                          "Month-end forecast with a range, per total, provider and team.",
                          lambda con, config, w: steps.build_spend_forecast(con))

    @dg.asset(group_name=MARTS, deps=[budget_status, anomalies],
              description="Budget and anomaly alerts posted to the configured webhooks; never the same alert twice.")
    def alerts_sent(context: dg.AssetExecutionContext, aispend: AispendResource) -> dg.MaterializeResult:
        with aispend.writer() as (config, con):
            sent = steps.send_due_alerts(con, config, context.log.info)
        failed = int(sent.filter(pl.col("status") != "sent").height) if sent.height else 0
        return dg.MaterializeResult(metadata={"posted": sent.height - failed, "failed": failed})

    @dg.asset(
        group_name=MARTS,
        deps=[task_daily, tasks],
        description="Per task: runs, successes, AI cost, human cost avoided, review cost, net savings, ROI.",
        check_specs=[
            dg.AssetCheckSpec("accounts_for_all_usage", asset="task_roi",
                              description="task_roi holds every request and every priced dollar of usage_events"),
        ],
    )
    def task_roi(aispend: AispendResource) -> dg.MaterializeResult:
        with aispend.writer() as (config, con):
            frame = steps.build_task_roi(con)
            sums = query(con, sql("check_roi_matches_usage")).to_dicts()[0]
            steps.publish(con, config, "task_roi")
        passed = sums["usage_requests"] == sums["roi_requests"] and abs(sums["usage_cost_usd"] - sums["roi_cost_usd"]) < 1e-6
        return dg.MaterializeResult(
            metadata={"tasks": frame.height, "net_savings_usd": float(frame["net_savings_usd"].sum() or 0)},
            check_results=[
                dg.AssetCheckResult(check_name="accounts_for_all_usage", passed=passed,
                                    severity=dg.AssetCheckSeverity.ERROR,
                                    metadata={k: float(v) for k, v in sums.items()})
            ],
        )

    return [
        prices, tasks, cost_lines, usage_events, spend_daily, usage_daily, allocated_cost, task_daily, task_roi,
        reconciliation, model_whatif, waste, anomalies, budget_status, spend_forecast, alerts_sent,
    ]


ALL_ASSETS = build_assets(partitions.start_date(partitions.config_from_env()))
(
    prices, tasks, cost_lines, usage_events, spend_daily, usage_daily, allocated_cost, task_daily, task_roi,
    reconciliation, model_whatif, waste, anomalies, budget_status, spend_forecast, alerts_sent,
) = ALL_ASSETS
ASSETS_BY_NAME = {a.key.to_user_string(): a for a in ALL_ASSETS}
