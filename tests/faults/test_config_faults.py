"""Faults that need no fixture, tried on every source kind the registry finds (kinds merged later included):
a misspelt option, a path that matches nothing, a truncated gzip, binary garbage; and config mistakes that must
stop `aispend run` with a message before anything is written.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.config import ConfigError, load_config
from pipelines.loads import load_prices, load_table
from pipelines.planning import pending_units
from pipelines.sources import specs
from tests.faults.kinds import BAD_DAY, FIXTURES, config_text
from warehouse.db import connect_writer

REPO = Path(__file__).resolve().parents[2]
ALL_KINDS = sorted(specs())
FILE_KINDS = sorted(k for k, s in specs().items() if s.read is not None)
PATH_KINDS = sorted(k for k, s in specs().items() if s.needs_path)


def _options(kind: str) -> dict:
    """The options a kind needs to be valid at all (API kinds need a start date)."""
    fields = specs()[kind].options.model_fields
    return {"start_date": "2026-11-01"} if "start_date" in fields and fields["start_date"].is_required() else {}


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_misspelt_option_refuses_the_config(tmp_path, kind):
    source = {"name": "s", "kind": kind, "options": {**_options(kind), "patern": "*.csv"}}
    if specs()[kind].needs_path:
        source["path"] = "data"
    (tmp_path / "aispend.yaml").write_text(config_text([source]))
    with pytest.raises(ConfigError, match="patern"):
        load_config(tmp_path / "aispend.yaml")


def _config_with(tmp_path: Path, kind: str, folder: Path, **options):
    source = {"name": "s", "kind": kind, "path": str(folder), "options": {**_options(kind), **options}}
    (tmp_path / "aispend.yaml").write_text(config_text([source]))
    return load_config(tmp_path / "aispend.yaml")


def _load(config, table: str):
    con = connect_writer(config.warehouse_path)
    try:
        if table == "usage_events":
            load_prices(con, config)
        return load_table(con, config, table)
    finally:
        con.close()


@pytest.mark.parametrize("kind", PATH_KINDS)
def test_a_path_that_matches_nothing_is_a_failed_source_not_silence(tmp_path, kind):
    (tmp_path / "empty").mkdir()
    config = _config_with(tmp_path, kind, tmp_path / "empty")
    table = specs()[kind].table
    assert pending_units(config.warehouse_path, config, table)  # the run plans the load, so it is said
    results = _load(config, table)
    assert [r.status for r in results] == ["quarantined"]
    assert "nothing to read" in results[0].error and "\n" not in results[0].error


def _name(kind: str, suffix: str) -> str:
    """A file name the kind reads: its fixture's, else a generic one (a kind merged without a fixture)."""
    yaml_gz = suffix and kind in FIXTURES and FIXTURES[kind].name(BAD_DAY).endswith(".yaml")
    if kind in FIXTURES and not yaml_gz:   # YAML is read plain; those kinds read gzip as `.csv.gz`
        return FIXTURES[kind].name(BAD_DAY).rsplit("/", 1)[-1] + suffix
    return f"data-{BAD_DAY}.csv{suffix}"


@pytest.mark.parametrize("kind", FILE_KINDS)
@pytest.mark.parametrize("fault", ["truncated gzip", "binary garbage"])
def test_broken_files_are_quarantined_with_a_one_line_reason(tmp_path, kind, fault):
    folder = tmp_path / "data"
    folder.mkdir()
    good = json.dumps({"a": 1}).encode() * 500
    if fault == "truncated gzip":
        name, body = _name(kind, ".gz"), gzip.compress(good)[:40]
    else:
        name, body = _name(kind, ""), bytes(range(256)) * 8
    (folder / name).write_bytes(body)
    # The file is named so the kind reads it (a kind whose default pattern is its own, e.g. `*.jsonl`, is told).
    named = {"pattern": name} if "pattern" in specs()[kind].options.model_fields else {}
    config = _config_with(tmp_path, kind, folder, **named)
    results = _load(config, specs()[kind].table)
    assert [r.status for r in results] == ["quarantined"], results
    error = results[0].error
    assert "\n" not in error and name in error
    if fault == "truncated gzip":
        assert "gzip" in error


def _run(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--config", str(config)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_an_empty_config_is_refused_and_writes_nothing(tmp_path):
    (tmp_path / "aispend.yaml").write_text("")
    done = _run(tmp_path / "aispend.yaml", tmp_path)
    assert done.returncode == 2 and "names no sources" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aispend.yaml"]  # no ./aispend-data


def test_an_unwritable_warehouse_says_what_and_where(tmp_path):
    """A warehouse folder that cannot be made (here: a file is in the way, which even root cannot write through)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "blocked").write_text("a file, not a folder")
    (tmp_path / "aispend.yaml").write_text(json.dumps({
        "warehouse": "blocked/aispend.duckdb",
        "sources": [{"name": "billing", "kind": "focus", "path": "data"}]}))
    done = _run(tmp_path / "aispend.yaml", tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot write the warehouse" in done.stderr and str(tmp_path / "blocked") in done.stderr


def test_a_config_that_is_not_found_or_not_valid_says_so(tmp_path):
    missing = _run(tmp_path / "nope.yaml", tmp_path)
    assert missing.returncode == 2 and "config file not found" in missing.stderr
    (tmp_path / "aispend.yaml").write_text("sources: [{name: s, kind: focus, path: x, options: {patern: y}}]\n")
    bad = _run(tmp_path / "aispend.yaml", tmp_path)
    assert bad.returncode == 2 and "patern" in bad.stderr and "Traceback" not in bad.stderr
