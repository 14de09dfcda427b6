"""Assets: one per warehouse table, each a few lines around a step in pipelines.steps."""


import dagster as dg

from pipelines import steps
from pipelines.defs.resources import AispendResource
from pipelines.ingest import FileResult
from warehouse.db import query, sql

INGEST = "ingest"
MARTS = "marts"


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
        raise dg.Failure(description=result.error)
    return dg.MaterializeResult(metadata={"tasks": result.rows if result else 0})


@dg.asset(
    group_name=INGEST,
    description="Every billed line from the cost sources, in FOCUS 1.2 columns.",
    check_specs=[
        _quarantine_spec("cost_lines"),
        dg.AssetCheckSpec("unique_line_ids", asset="cost_lines", description="x_line_id is unique"),
    ],
)
def cost_lines(context: dg.AssetExecutionContext, aispend: AispendResource) -> dg.MaterializeResult:
    with aispend.writer() as (config, con):
        results = steps.load_cost_lines(con, config, context.log.info)
        dupes = query(con, sql("check_duplicate_line_ids"))
        totals = query(con, sql("cost_totals"))
        steps.publish(con, config)
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
    description="One row per model request from the usage logs, priced with the price in force on its date.",
    check_specs=[
        _quarantine_spec("usage_events"),
        dg.AssetCheckSpec(
            "price_coverage", asset="usage_events",
            description="Warns when under 95% of requests have a price (unpriced requests are never $0).",
        ),
    ],
)
def usage_events(context: dg.AssetExecutionContext, aispend: AispendResource) -> dg.MaterializeResult:
    with aispend.writer() as (config, con):
        results = steps.load_usage_events(con, config, context.log.info)
        coverage = query(con, sql("price_coverage"))
        steps.publish(con, config)
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


@dg.asset(group_name=MARTS, deps=[cost_lines], description="Billed and effective cost per day, provider, service, model.")
def spend_daily(aispend: AispendResource) -> dg.MaterializeResult:
    with aispend.writer() as (config, con):
        frame = steps.build_spend_daily(con)
        steps.publish(con, config, "spend_daily")
    return dg.MaterializeResult(metadata={"rows": frame.height, "billed_cost": float(frame["billed_cost"].sum() or 0)})


@dg.asset(group_name=MARTS, deps=[usage_events], description="Requests, tokens and priced cost per day, provider, model, task, team.")
def usage_daily(aispend: AispendResource) -> dg.MaterializeResult:
    with aispend.writer() as (config, con):
        frame = steps.build_usage_daily(con)
        steps.publish(con, config, "usage_daily")
    return dg.MaterializeResult(metadata={"rows": frame.height, "cost_usd": float(frame["cost_usd"].sum() or 0)})


@dg.asset(group_name=MARTS, deps=[usage_events], description="Runs, outcomes and priced cost per day, task, team.")
def task_daily(aispend: AispendResource) -> dg.MaterializeResult:
    with aispend.writer() as (config, con):
        frame = steps.build_task_daily(con)
        steps.publish(con, config, "task_daily")
    return dg.MaterializeResult(metadata={"rows": frame.height, "runs": int(frame["runs"].sum() or 0)})


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
                                severity=dg.AssetCheckSeverity.ERROR, metadata={k: float(v) for k, v in sums.items()})
        ],
    )


ALL_ASSETS = [prices, tasks, cost_lines, usage_events, spend_daily, usage_daily, task_daily, task_roi]
