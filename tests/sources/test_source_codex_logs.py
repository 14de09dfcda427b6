"""Codex CLI session logs: token_count events as calls, cumulative totals with and without last_token_usage,
repeats skipped, cached and reasoning tokens not counted twice, priced as genai-prices prices them.

Hand count of tests/fixtures/agents/codex/sessions (two sessions):
- 2026/10/05/rollout-...f601.jsonl (cwd /home/dev/code/shop, model gpt-5-codex, later gpt-5.1-codex): a token_count
  with info null (no call); E1 total = last = (input 8000, cached 6000, output 500, reasoning 200); E1 again (same
  total: a repeat); E3 total (20000, 15000, 1300, 600) with last (12000, 9000, 800, 400); a turn_context switching
  to gpt-5.1-codex; E4 last (11000, 9000, 400, 100).
- 2026/10/06/rollout-...f602.jsonl (cwd /home/dev/notes, gpt-5-codex), an older CLI with totals only:
  F1 (4000, 0, 300, 120); F1 again (a repeat); F3 (10000, 3500, 700, 200) -> +(6000, 3500, 400, 80);
  F4 (15000, 8000, 1000, 250) -> +(5000, 4500, 300, 50).
Uncached input = input - cached; output already holds reasoning.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from genai_prices import Usage, calc_price

from pipelines.config import AispendConfig, SourceConfig
from pipelines.errors import SourceError
from pipelines.loads import load_table
from pipelines.schemas import USAGE_EVENTS
from pipelines.sources import codex_logs, plan_units, spec
from tests.support.pipeline_inputs import load_usage

FIXTURE = Path(__file__).parents[1] / "fixtures" / "agents" / "codex" / "sessions"
MARKER = "PROMPT-MARKER-c0d3"
U1, U2 = "0199b0c1-d2e3-7f40-8a51-b2c3d4e5f601", "0199b0c1-d2e3-7f40-8a51-b2c3d4e5f602"
FILE_1 = f"2026/10/05/rollout-2026-10-05T10-00-00-{U1}.jsonl"
FILE_2 = f"2026/10/06/rollout-2026-10-06T08-30-00-{U2}.jsonl"
SOURCE = SourceConfig(name="codex", kind="codex_logs", path="unused")

# UTC time, raw model, session, project, uncached input, cached input, output (reasoning included), reasoning
EXPECTED = [
    (datetime(2026, 10, 5, 10, 0, 9), "gpt-5-codex", U1, "shop", 2000, 6000, 500, 200),
    (datetime(2026, 10, 5, 10, 0, 20), "gpt-5-codex", U1, "shop", 3000, 9000, 800, 400),
    (datetime(2026, 10, 5, 10, 5, 12), "gpt-5.1-codex", U1, "shop", 2000, 9000, 400, 100),
    (datetime(2026, 10, 6, 8, 30, 10), "gpt-5-codex", U2, "notes", 4000, 0, 300, 120),
    (datetime(2026, 10, 6, 8, 31), "gpt-5-codex", U2, "notes", 2500, 3500, 400, 80),
    (datetime(2026, 10, 6, 8, 32), "gpt-5-codex", U2, "notes", 500, 4500, 300, 50),
]
# Hand sums of the six calls: uncached 2000+3000+2000+4000+2500+500, cached 6000+9000+9000+3500+4500,
# output 500+800+400+300+400+300, reasoning 200+400+100+120+80+50.
TOTALS = {"input_tokens": 14000, "cache_read_tokens": 32000, "output_tokens": 2700, "reasoning_tokens": 950}
COLUMNS = ["event_time", "raw_model", "run_id", "project", "input_tokens", "cache_read_tokens", "output_tokens",
           "reasoning_tokens"]


def _config(tmp_path: Path, root: Path = FIXTURE) -> AispendConfig:
    return AispendConfig(warehouse=str(tmp_path / "w.duckdb"), base_dir=str(tmp_path), sources=[
        {"name": "codex", "kind": "codex_logs", "path": str(root)}])


def _read(path: Path) -> pl.DataFrame:
    return codex_logs.read(str(path), SOURCE)


def test_one_unit_per_session_file_dated_by_its_folder(tmp_path):
    assert spec("codex_logs").read is codex_logs.read
    config = _config(tmp_path)
    units = plan_units(config, config.sources[0])
    assert [(u.key, u.partition) for u in units] == [(FILE_1, "2026-10-05"), (FILE_2, "2026-10-06")]


def test_calls_with_and_without_last_token_usage_hand_counted():
    events = pl.concat([_read(FIXTURE / FILE_1), _read(FIXTURE / FILE_2)])
    assert dict(events.schema) == USAGE_EVENTS
    assert events.select(COLUMNS).rows() == EXPECTED
    assert events.select(*TOTALS).sum().row(0, named=True) == TOTALS
    assert set(events["provider"]) == {"openai"} and set(events["task"]) == {"coding_agent"}
    assert set(events["model"]) == {"gpt-5", "gpt-5.1"}
    assert events["cache_write_tokens"].to_list() == [0] * 6 and events["cache_write_1h_tokens"].null_count() == 6


def test_cost_is_genai_prices_per_call(tmp_path):
    config = _config(tmp_path)
    con, results = load_usage(config)
    assert [r.status for r in results] == ["loaded", "loaded"]
    got = con.sql("SELECT event_time, cost_usd FROM usage_events ORDER BY event_time").fetchall()
    assert [t for t, _ in got] == [e[0] for e in EXPECTED]
    for (when, model, _, _, uncached, cached, out, _), (_, cost) in zip(EXPECTED, got):
        usage = Usage(input_tokens=uncached + cached, cache_read_tokens=cached, output_tokens=out)
        want = calc_price(usage, model, provider_id="openai", genai_request_timestamp=when.replace(tzinfo=UTC))
        assert cost == pytest.approx(float(want.total_price), rel=1e-12)
    # the first by hand: gpt-5 input 1.25, cached 0.125, output 10 USD per million
    assert got[0][1] == pytest.approx((2000 * 1.25 + 6000 * 0.125 + 500 * 10) / 1e6, rel=1e-12)
    text = str(con.sql("SELECT * FROM usage_events").fetchall())
    con.close()
    assert MARKER not in text and MARKER.encode() not in config.warehouse_path.read_bytes()


def test_a_growing_session_replaces_its_own_rows(tmp_path):
    root = tmp_path / "sessions"
    shutil.copytree(FIXTURE, root)
    config = _config(tmp_path, root)
    con, _ = load_usage(config)
    session = root / FILE_2
    session.write_text(session.read_text() + session.read_text().splitlines()[-1].replace(
        '"input_tokens":15000', '"input_tokens":16000').replace('"total_tokens":16000', '"total_tokens":17000')
        .replace("08:32:00", "08:33:00") + "\n")
    assert {r.location: r.status for r in load_table(con, config, "usage_events")} == {
        FILE_1: "unchanged", FILE_2: "replaced"}
    # one more call of 1000 uncached input tokens, nothing else
    assert con.sql("SELECT count(*), sum(input_tokens), sum(output_tokens) FROM usage_events").fetchone() == (
        7, TOTALS["input_tokens"] + 1000, TOTALS["output_tokens"])
    con.close()


def test_model_from_the_event_wins_and_a_session_id_from_the_file_name(tmp_path):
    lines = (FIXTURE / FILE_1).read_text().splitlines()
    event = next(line for line in lines if '"last_token_usage"' in line)
    with_model = event.replace('"info":{', '"info":{"model":"gpt-5.2-codex",')
    path = tmp_path / f"rollout-2026-10-07T00-00-00-{U2}.jsonl"
    path.write_text(with_model + "\n")  # no session_meta, no turn_context
    (row,) = _read(path).select("raw_model", "run_id", "project").rows()
    assert row == ("gpt-5.2-codex", U2, None)


def test_refused_input_names_line_and_field_never_the_text(tmp_path):
    lines = (FIXTURE / FILE_1).read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines[:4] + [lines[4].replace('"output_tokens":500', '"output_tokens":-5')]) + "\n")
    with pytest.raises(SourceError) as err:
        _read(bad)
    assert err.value.message == (f"{bad}, line 5, column 'payload.info.total_token_usage.output_tokens': "
                                 "-5.0 is not a whole number from 0 to 1e13 (a token count)")
    bad.write_text("\n".join(lines[:2] + [lines[2][:60]] + lines[3:]) + "\n")
    with pytest.raises(SourceError) as err:
        _read(bad)
    assert err.value.message == f"{bad}, line 3: the line is not valid JSON" and MARKER not in err.value.message


def test_files_read_together_equal_each_read_alone(tmp_path):
    """Small session files are read together (`read_many`); each file's frame equals `read`'s, and nothing of one
    file reaches the next: not its session, cwd or model (a file without session_meta or turn_context follows
    one that has them), nor its cumulative totals (FILE_2's older CLI reports totals only, after FILE_1's)."""
    bare = tmp_path / f"rollout-2026-10-07T00-00-00-{U2}.jsonl"
    bare.write_text("\n".join(line for line in (FIXTURE / FILE_2).read_text().splitlines()
                              if '"token_count"' in line) + "\n")
    empty = tmp_path / "rollout-2026-10-07T01-00-00-x.jsonl"
    empty.write_text((FIXTURE / FILE_1).read_text().splitlines()[0] + "\n")  # session_meta only: no call
    paths = [FIXTURE / FILE_1, bare, empty, FIXTURE / FILE_2, FIXTURE / FILE_1]
    together = codex_logs.read_many([(str(p), p.read_bytes()) for p in paths], SOURCE)
    alone = [_read(p) for p in paths]
    assert [f.height for f in alone] == [3, 3, 0, 3, 3]
    assert alone[1].select("run_id", "project", "raw_model").unique().rows() == [(U2, None, None)]
    for got, want in zip(together, alone, strict=True):
        assert got.equals(want)


def test_a_fault_in_files_read_together_raises(tmp_path):
    """Any fault raises from `read_many` (ingest then reads each file alone, which names it)."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text((FIXTURE / FILE_2).read_text().replace('"output_tokens":700', '"output_tokens":-7'))
    files = [(str(p), p.read_bytes()) for p in (FIXTURE / FILE_1, bad)]
    with pytest.raises(SourceError) as err:
        codex_logs.read_many(files, SOURCE)
    assert err.value.message.startswith(f"{bad}, line 6")
