"""Source readers by kind.

A file-based kind has a reader: `read(path, source, data=None) -> pl.DataFrame` parses ONE file (`data` is its
bytes, fetched by ingest from disk or S3; read from `path` when None), validates it whole, and returns a frame
conformed to cost_lines (cost kinds) or usage_events (usage kinds); bad input raises
`pipelines.errors.SourceError` naming the file, row or column, and the reason.

A kind whose unit of loading is not one file (a billing period's manifest, an API day) has a planner instead:
`plan(config, source) -> list[pipelines.ingest.Unit]`.

Modules are imported on first use, so a run that reads FOCUS files never imports boto3 or HTTP clients.
"""

from __future__ import annotations

from importlib import import_module
from typing import Callable

import polars as pl

from pipelines.config import AispendConfig, SourceConfig
from pipelines.ingest import Unit, file_units

_READER_PATHS = {
    "focus": "pipelines.sources.focus:read",
    "azure_ea": "pipelines.sources.azure_ea:read",
    "otel_genai": "pipelines.sources.otel_genai:read",
    "bedrock_invocation_logs": "pipelines.sources.bedrock_logs:read",
    "litellm_spend": "pipelines.sources.litellm:read",
    "usage_csv": "pipelines.sources.usage_csv:read",
}
_PLANNER_PATHS = {
    "aws_cur": "pipelines.sources.aws_cur:plan",
    "openai_costs": "pipelines.sources.openai_api:plan_costs",
    "openai_usage": "pipelines.sources.openai_api:plan_usage",
    "anthropic_costs": "pipelines.sources.anthropic_api:plan_costs",
    "anthropic_usage": "pipelines.sources.anthropic_api:plan_usage",
}


def _resolve(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


def reader(kind: str) -> Callable[..., pl.DataFrame]:
    return _resolve(_READER_PATHS[kind])


def plan_units(config: AispendConfig, source: SourceConfig) -> list[Unit]:
    if source.kind in _PLANNER_PATHS:
        return _resolve(_PLANNER_PATHS[source.kind])(config, source)
    return file_units(config, source, reader(source.kind))
