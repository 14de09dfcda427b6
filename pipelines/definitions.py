"""The Dagster entry point (`workspace.yaml` loads this module; `aispend run` builds the same thing).

The config file comes from AISPEND_CONFIG (default ./aispend.yaml); `aispend` passes it explicitly. Its
`start_date` is where the daily and monthly partitions begin.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.config import load_config
from pipelines.defs import partitions
from pipelines.defs.assets import build_assets
from pipelines.defs.checks import ASSET_CHECKS
from pipelines.defs.resources import AispendResource
from pipelines.defs.schedules import SCHEDULES
from pipelines.defs.sensors import sensors_for

# A Dagster job holds one partitioning, so there is one job per partitioning (the UI, sensors and schedules
# launch a partition or a range of each) and `everything` holds the unpartitioned rest: prices, the catalog and
# the rollup marts. `aispend run` runs all of them in dependency order; in the UI, "Materialize all" over the
# asset graph launches a backfill that does the same.
INGEST_COST_JOB = "cost_lines_job"
INGEST_USAGE_JOB = "usage_events_job"


def build_definitions(config_path: str) -> dg.Definitions:
    config = load_config(config_path) if Path(config_path).is_file() else None
    assets = build_assets(partitions.start_date(config))
    by_name = {a.key.to_user_string(): a for a in assets}
    monthly = [by_name["cost_lines"], by_name["spend_daily"]]
    daily = [by_name["usage_events"], by_name["usage_daily"], by_name["task_daily"]]
    rest = [a for a in assets if a.partitions_def is None]
    jobs = [
        dg.define_asset_job("everything", selection=rest, executor_def=dg.in_process_executor,
                            description="The unpartitioned assets: prices, the task catalog, the rollup marts."),
        dg.define_asset_job(INGEST_COST_JOB, selection=monthly, executor_def=dg.in_process_executor,
                            description="Billing months: cost_lines and spend_daily for a month or a range."),
        dg.define_asset_job(INGEST_USAGE_JOB, selection=daily, executor_def=dg.in_process_executor,
                            description="UTC days: usage_events, usage_daily, task_daily for a day or a range."),
    ]
    return dg.Definitions(
        assets=assets,
        asset_checks=ASSET_CHECKS,
        jobs=jobs,
        schedules=SCHEDULES,
        sensors=sensors_for(config),
        resources={"aispend": AispendResource(config_path=config_path)},
        executor=dg.in_process_executor,
    )


defs = build_definitions(os.environ.get("AISPEND_CONFIG", "aispend.yaml"))
