"""The house keeps its shape: a source kind is one module, the graph is declared once, Dagster is built once.

- A kind added as ONE module (no other edit) is found by the config, by ingest and by the S3 sensors.
- Importing `pipelines.definitions` builds the assets once.
- The run plan follows the graph: every step once, after its dependencies, loads never with marts.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pipelines.sources
from pipelines.config import ConfigError, load_config
from pipelines.graph import GRAPH, INGEST
from pipelines.loads import load_table
from pipelines.plan import stages
from warehouse.db import connect_writer

REPO = Path(__file__).resolve().parents[2]

NEW_KIND = '''
"""A kind made up for a test: one number per line of a .txt file, one usage event each."""

from datetime import datetime, timezone

import polars as pl
from pydantic import Field

from pipelines.schemas import USAGE_EVENTS, conform
from pipelines.sources.spec import FileOptions, SourceSpec, Watch


class TallyOptions(FileOptions):
    model: str = Field(default="gpt-4o-mini")


def read(path, source, data=None):
    counts = [int(x) for x in (data or b"").decode().split()]
    return conform(pl.DataFrame({
        "event_time": [datetime(2026, 11, 2, 9)] * len(counts), "provider": "openai",
        "model": source.options.model, "raw_model": source.options.model, "task": "tally",
        "request_count": 1, "input_tokens": counts, "cache_read_tokens": 0, "cache_write_tokens": 0,
        "output_tokens": 1, "reasoning_tokens": 0, "is_batch": False, "status": "ok", "x_source": source.name,
    }), USAGE_EVENTS)


SPEC = SourceSpec(kind="tally", table="usage_events", summary="a test kind", doc="docs/sources/tally.md",
                  options=TallyOptions, read=read,
                  watch=Watch("new_tallies", lambda location: datetime(2026, 11, 2, tzinfo=timezone.utc),
                              lambda location, etag: location, "a run per new tally file"))
'''


@pytest.fixture
def tally_kind(tmp_path, monkeypatch):
    """The module lives outside the repository; the sources package is told to look there too."""
    folder = tmp_path / "more_sources"
    folder.mkdir()
    (folder / "tally.py").write_text(NEW_KIND)
    monkeypatch.setattr(pipelines.sources, "__path__", [*pipelines.sources.__path__, str(folder)])
    pipelines.sources.forget()
    yield
    sys.modules.pop("pipelines.sources.tally", None)
    pipelines.sources.forget()


def test_a_new_kind_is_one_module_found_by_config_ingest_and_sensors(tmp_path, tally_kind):
    (tmp_path / "tallies").mkdir()
    (tmp_path / "tallies" / "a.txt").write_text("100 200\n")
    (tmp_path / "aispend.yaml").write_text(textwrap.dedent("""
        warehouse: wh/aispend.duckdb
        sources:
          - {name: counts, kind: tally, path: "tallies/*.txt", options: {model: gpt-4o}}
          - {name: counts_s3, kind: tally, path: "s3://bucket/tallies/"}
    """))
    config = load_config(tmp_path / "aispend.yaml")                     # the config knows the kind...
    assert type(config.sources[0].options).__name__ == "TallyOptions"
    assert config.sources[0].table == "usage_events"
    config.sources.pop()                                                  # (no S3 to read in this test)
    con = connect_writer(config.warehouse_path)
    [result] = load_table(con, config, "usage_events")                  # ...ingest reads it...
    assert (result.location, result.status, result.rows) == ("a.txt", "loaded", 2)
    assert con.sql("SELECT sum(input_tokens), min(model) FROM usage_events").fetchone() == (300, "gpt-4o")
    con.close()

    from pipelines.defs.sensors import sensors_for                       # ...and a sensor watches its S3 path
    names = [s.name for s in sensors_for(load_config(tmp_path / "aispend.yaml"))]
    assert "counts_s3_new_tallies" in names

    (tmp_path / "bad.yaml").write_text("sources: [{name: c, kind: tally, path: x, options: {modle: gpt-4o}}]\n")
    with pytest.raises(ConfigError, match="modle: Extra inputs are not permitted"):  # its options are checked
        load_config(tmp_path / "bad.yaml")


def test_importing_the_definitions_builds_the_assets_once(tmp_path):
    (tmp_path / "aispend.yaml").write_text("start_date: 2026-01-01\n")
    code = ("import pipelines.definitions as d, pipelines.defs.assets as a; "
            "print(a.BUILDS['count'], len(d.defs.resolve_asset_graph().get_all_asset_keys()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300,
                         env={**__import__("os").environ, "AISPEND_CONFIG": str(tmp_path / "aispend.yaml")})
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["1", str(len(GRAPH))]


def test_the_plan_runs_every_step_once_after_its_dependencies():
    order = [name for stage in stages() for name in stage.steps]
    assert sorted(order) == sorted(s.name for s in GRAPH)
    position = {name: i for i, name in enumerate(order)}
    for step in GRAPH:
        assert all(position[d] < position[step.name] for d in step.deps), step.name
    by_name = {s.name: s for s in GRAPH}
    for stage in stages():
        assert len({(by_name[n].grain, by_name[n].group == INGEST) for n in stage.steps}) == 1


def test_no_module_imports_itself_in_a_circle():
    """No two modules import each other at import time (app.py and server.py once did)."""
    import ast

    raw: dict[str, list[tuple[str, list[str]]]] = {}
    for package in ("pipelines", "warehouse", "dashboard"):
        for path in (REPO / package).rglob("*.py"):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            # Module-level imports only: an import inside a function runs later, when both modules exist.
            raw[module] = [(n.module, [a.name for a in n.names]) if isinstance(n, ast.ImportFrom) and n.level == 0
                           else (None, [a.name for a in n.names])
                           for n in ast.parse(path.read_text()).body if isinstance(n, (ast.Import, ast.ImportFrom))]
    edges: dict[str, set[str]] = {}
    for module, imports in raw.items():
        found = set()
        for source, names in imports:
            if source is None:
                found.update(names)
            else:  # `from pkg import sub` depends on pkg.sub, not on everything pkg/__init__ imports
                subs = [f"{source}.{n}" for n in names if f"{source}.{n}" in raw]
                found.update(subs or [source])
        edges[module] = {d for d in found if d in raw and d != module}

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for nxt in edges[start]:
            if nxt == target or (nxt not in seen and not seen.add(nxt) and reaches(nxt, target, seen)):
                return True
        return False

    assert sorted(m for m in edges if reaches(m, m, set())) == []
