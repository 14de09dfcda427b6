"""Opt-in step timings (pipelines/timings.py): with AISPEND_TIMINGS=1 a step logs where its time went and how many
rows each source's reader returned; without it nothing is logged and nothing is wrapped. No time is asserted."""

from __future__ import annotations

import json

import pytest

from pipelines import timings
from pipelines.config import AispendConfig, SourceConfig
from pipelines.execute import run_step

HEADER = "timestamp,provider,model,input_tokens,output_tokens\n"


@pytest.fixture
def config(tmp_path) -> AispendConfig:
    folder = tmp_path / "usage"
    folder.mkdir()
    # 3 rows on one day, 2 on the next: 5 rows in all
    (folder / "2026-11-02.csv").write_text(HEADER + "".join(f"2026-11-02T0{h}:00:00Z,openai,gpt-4o,100,10\n"
                                                            for h in range(3)))
    (folder / "2026-11-03.csv").write_text(HEADER + "".join(f"2026-11-03T0{h}:00:00Z,openai,gpt-4o,100,10\n"
                                                            for h in range(2)))
    return AispendConfig(warehouse=str(tmp_path / "wh" / "aispend.duckdb"), base_dir=str(tmp_path),
                         sources=[SourceConfig(name="csv", kind="usage_csv", path="usage/*.csv")])


def timing_lines(messages: list[str]) -> list[dict]:
    return [json.loads(m.split(timings.PREFIX, 1)[1]) for m in messages if timings.PREFIX in m]


def test_a_load_logs_its_parts_per_source_and_the_rows_read(config, monkeypatch):
    monkeypatch.setenv(timings.ENV, "1")
    messages: list[str] = []
    run_step("prices", config, log=messages.append)
    run_step("usage_events", config, log=messages.append)
    prices, usage = timing_lines(messages)
    assert prices["step"] == "prices" and set(prices["parts"]) == {"publish"}
    assert usage["step"] == "usage_events"
    assert set(usage["parts"]) == {"csv/fingerprint", "csv/parse", "csv/price", "csv/write", "publish"}
    assert usage["rows"] == {"csv": 5}
    assert usage["seconds"] >= sum(usage["parts"].values())  # the parts happen inside the step


def test_without_the_variable_nothing_is_logged_or_wrapped(config, monkeypatch):
    monkeypatch.delenv(timings.ENV, raising=False)
    messages: list[str] = []
    run_step("prices", config, log=messages.append)
    run_step("usage_events", config, log=messages.append)
    assert timing_lines(messages) == []
    units, pricer, flush, wait = [object()], print, len, repr
    assert timings.ingest_parts("csv", units, pricer, flush, wait) == (units, pricer, flush, wait)
