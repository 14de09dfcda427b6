"""The Dagster entry point (`workspace.yaml` loads this module; `aispend run` builds the same thing).

The config file comes from AISPEND_CONFIG (default ./aispend.yaml); `aispend` passes it explicitly.
"""

from __future__ import annotations

import os

import dagster as dg

from pipelines.defs.assets import ALL_ASSETS
from pipelines.defs.resources import AispendResource

everything = dg.define_asset_job("everything", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor)


def build_definitions(config_path: str) -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[everything],
        resources={"aispend": AispendResource(config_path=config_path)},
        executor=dg.in_process_executor,
    )


defs = build_definitions(os.environ.get("AISPEND_CONFIG", "aispend.yaml"))
