"""Source readers by kind: each reads ONE file, validates it whole, and returns a frame conformed to its table.

`READERS[kind](path, source)` returns cost_lines rows for cost kinds and usage_events rows for usage kinds;
bad input raises `pipelines.errors.SourceError` naming the file, row or column, and the reason.
"""

from __future__ import annotations

from typing import Callable

import polars as pl

from pipelines.config import SourceConfig
from pipelines.sources import focus, otel_genai

READERS: dict[str, Callable[[str, SourceConfig], pl.DataFrame]] = {
    "focus": focus.read,
    "otel_genai": otel_genai.read,
}
