"""The Dagster entry point (`workspace.yaml` loads this module; `aispend run` builds the same thing).

The config file comes from AISPEND_CONFIG (default ./aispend.yaml); `aispend` passes it explicitly. It is read
once here: its `start_date` is where the daily and monthly partitions begin, and its S3 sources get sensors.
Assets, jobs, schedules and sensors all come from the one graph (pipelines/graph.py) and run plan
(pipelines/plan.py).
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
from pipelines.plan import JOB_DESCRIPTIONS, JOBS, job_steps


def build_definitions(config_path: str) -> dg.Definitions:
    config = load_config(config_path) if Path(config_path).is_file() else None
    assets = build_assets(partitions.start_date(config))
    jobs = [
        dg.define_asset_job(name, selection=job_steps(grain), executor_def=dg.in_process_executor,
                            description=JOB_DESCRIPTIONS[grain])
        for grain, name in JOBS.items()
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
