"""Assets: one per step of the graph (pipelines/graph.py), made by one factory around `execute.run_step`.

`build_assets(start)` makes them for partitions starting at `start` (the config's start_date): steps by UTC day or
by billing month are partitioned so, and a range backfill is one run over the whole range; the rest are
unpartitioned and rebuilt whole. `build_assets(start, partitioned=False)` makes them all unpartitioned, each run
naming its days in tags (`partitions.window_tags`): that is how `aispend run` runs them, in a Dagster instance that
lives in memory, where a materialization per asset and day (5,000 for eight marts over two years) would be
bookkeeping no one reads (docs/architecture.md, "The run plan"). Loads retry transient failures (storage or
network) with exponential backoff; bad input is never retried: it is quarantined and fails the
`no_quarantined_input` check (pipelines/defs/checks.py).
"""


from datetime import date

import dagster as dg

from pipelines.defs import checks, partitions
from pipelines.defs.resources import AispendResource
from pipelines.execute import StepFailure, run_step
from pipelines.graph import DAY, GRAPH, MONTH, Step

RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# How many times build_assets ran in this process: importing pipelines.definitions builds them once.
BUILDS = {"count": 0}


def _dep(step: Step, name: str, partitioned: bool) -> dg.AssetDep:
    if partitioned and name in step.around:
        # The step's rows of a day need the dependency's rows a day either side (runs across midnight).
        return dg.AssetDep(name, partition_mapping=dg.TimeWindowPartitionMapping(
            start_offset=-1, end_offset=1, allow_nonexistent_upstream_partitions=True))
    return dg.AssetDep(name)


def asset_for(step: Step, partitions_def: dg.PartitionsDefinition | None) -> dg.AssetsDefinition:
    @dg.asset(
        name=step.name,
        group_name=step.group,
        deps=[_dep(step, d, partitions_def is not None) for d in step.deps],
        description=step.description,
        partitions_def=partitions_def,
        backfill_policy=partitions.SINGLE_RUN if partitions_def else None,
        retry_policy=RETRY if step.step == "load" else None,
        check_specs=checks.inline_specs(step.name),
    )
    def _asset(context: dg.AssetExecutionContext, aispend: AispendResource) -> dg.MaterializeResult:
        config = aispend.config()
        window = (partitions.window(context) if partitions_def else
                  partitions.tagged_window(context) if step.grain is not None else None)
        try:
            result = run_step(step.name, config, window, context.log.info, wait_s=aispend.lock_wait_s)
        except StepFailure as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        metadata = step.summary(result.frame) if result.frame is not None else {}
        if result.frame is not None:
            metadata["rows"] = result.frame.height
        return dg.MaterializeResult(
            metadata={**metadata, **checks.ingest_metadata(result.results)},
            check_results=checks.inline_results(step.name, config, result.results),
        )

    return _asset


def build_assets(start: date = partitions.DEFAULT_START, *, partitioned: bool = True) -> list[dg.AssetsDefinition]:
    """Every asset, with daily and monthly partitions starting at `start` (none with `partitioned=False`)."""
    BUILDS["count"] += 1
    by_grain = {DAY: partitions.daily(start), MONTH: partitions.monthly(start), None: None} if partitioned else {
        DAY: None, MONTH: None, None: None}
    return [asset_for(step, by_grain[step.grain]) for step in GRAPH]
