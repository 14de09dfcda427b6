"""Source readers by kind: each reads ONE file, validates it whole, and returns a frame conformed to its table.

`READERS[kind](path, source, data=None)` parses `data` (the file's bytes, fetched by ingest from disk or S3;
read from `path` when None) and returns cost_lines rows for cost kinds and usage_events rows for usage kinds;
bad input raises `pipelines.errors.SourceError` naming the file, row or column, and the reason.
"""

from __future__ import annotations

from typing import Callable

import polars as pl

from pipelines.config import AispendConfig, SourceConfig
from pipelines.ingest import Unit, file_units
from pipelines.sources import focus, otel_genai

READERS: dict[str, Callable[[str, SourceConfig], pl.DataFrame]] = {
    "focus": focus.read,
    "otel_genai": otel_genai.read,
}

# Kinds whose unit of loading is not one file (a billing period's manifest, an API day) plan their own units.
PLANNERS: dict[str, Callable[[AispendConfig, SourceConfig], list[Unit]]] = {}


def plan_units(config: AispendConfig, source: SourceConfig) -> list[Unit]:
    planner = PLANNERS.get(source.kind)
    if planner is not None:
        return planner(config, source)
    return file_units(config, source, READERS[source.kind])
