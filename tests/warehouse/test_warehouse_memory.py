"""The writer caps DuckDB's memory (its block cache would otherwise grow toward 80% of RAM during mart builds)."""

from __future__ import annotations

import pytest

from warehouse.db import MEMORY_LIMIT_ENV, connect_writer


def limit(con) -> str:
    return con.execute("SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'").fetchone()[0]


def test_default_cap_and_environment_override(tmp_path, monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    con = connect_writer(tmp_path / "a.duckdb")
    assert limit(con) == "953.6 MiB"  # 1GB = 1e9 bytes, as DuckDB prints it
    con.close()
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "512MB")
    con = connect_writer(tmp_path / "a.duckdb")
    assert limit(con) == "488.2 MiB"
    con.close()


@pytest.mark.parametrize("value", ["lots", "2GB'; DROP TABLE usage_events; --", "-1GB", ""])
def test_a_bad_value_is_refused_naming_the_variable(tmp_path, monkeypatch, value):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, value)
    with pytest.raises(ValueError, match=MEMORY_LIMIT_ENV):
        connect_writer(tmp_path / "b.duckdb")
