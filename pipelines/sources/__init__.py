"""Source kinds, found by their modules: every module of this package that declares `SPEC` (or `SPECS`).

A file kind's reader, `read(path, source, data=None) -> pl.DataFrame`, parses ONE file (`data` is its bytes,
fetched by ingest from disk or S3), validates it whole, and returns a frame conformed to its table; bad input
raises `pipelines.errors.SourceError` naming the file, row or column, and the reason. A kind whose unit is not
one file (a billing period's manifest, an API day) has a planner instead: `plan(config, source) -> [Unit]`.
Heavy clients (boto3, HTTP) are imported by the code that uses them, so finding the kinds stays cheap.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module
from typing import TYPE_CHECKING

from pipelines.sources.spec import SourceSpec
from pipelines.sources.units import Unit, file_units

if TYPE_CHECKING:
    from pipelines.config import AispendConfig, SourceConfig

_found: dict[str, SourceSpec] | None = None


def specs() -> dict[str, SourceSpec]:
    """Every source kind by name, read once per process from the modules of this package."""
    global _found
    if _found is None:
        found: dict[str, SourceSpec] = {}
        for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            loaded = import_module(f"{__name__}.{module.name}")
            for spec in [*getattr(loaded, "SPECS", ()), *([loaded.SPEC] if hasattr(loaded, "SPEC") else [])]:
                if spec.kind in found:
                    raise RuntimeError(f"source kind {spec.kind} is declared twice (pipelines/sources/{module.name}.py)")
                found[spec.kind] = spec
        _found = found
    return _found


def forget() -> None:
    """Find the kinds again on next use (tests that add a module)."""
    global _found
    _found = None


def spec(kind: str) -> SourceSpec:
    try:
        return specs()[kind]
    except KeyError:
        raise KeyError(f"unknown source kind {kind!r}; known kinds: {', '.join(sorted(specs()))}") from None


def kinds(table: str | None = None) -> set[str]:
    """The kinds that feed `table` (every kind when None)."""
    return {k for k, s in specs().items() if table is None or s.table == table}


def plan_units(config: AispendConfig, source: SourceConfig) -> list[Unit]:
    kind = spec(source.kind)
    return kind.plan(config, source) if kind.plan is not None else file_units(config, source, kind)
