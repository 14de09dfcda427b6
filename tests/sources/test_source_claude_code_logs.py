"""Claude Code session logs: each API response once, 1-hour cache writes apart, priced as genai-prices prices
them, and never a prompt.

Hand count of tests/fixtures/agents/claude/projects (two project folders, three sessions, one sub-agent file):
- -home-dev-code-shop/<...aa>.jsonl: a summary, a file-history snapshot, a user prompt, msg_01A1 streamed three
  times (output 1, 20, then 57 with stop_reason "tool_use"), a tool result, msg_01A2, a `<synthetic>` message
  and a system line -> msg_01A1 (the completed line) and msg_01A2.
- <...aa>/subagents/agent-x1.jsonl: the parent's completed msg_01A1 repeated (not counted again), msg_01S1,
  and msg_01S2 written twice with no stop_reason (the last kept: output 90).
- -home-dev-code-shop/<...bb>.jsonl: msg_01B1 at 23:59:30 UTC, an older usage shape without the 5m/1h split.
- -home-dev-notes/<...cc>.jsonl: msg_01C1 streamed twice (output 3, then 15 completed) at 00:00:10 UTC.
Every prompt, tool call, tool result and reply holds MARKER.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from genai_prices import Usage, calc_price

from pipelines.config import AispendConfig
from pipelines.loads import load_table
from pipelines.schemas import USAGE_EVENTS
from pipelines.sources import claude_code_logs, plan_units, spec
from tests.support.pipeline_inputs import load_usage

FIXTURE = Path(__file__).parents[1] / "fixtures" / "agents" / "claude" / "projects"
MARKER = "PROMPT-MARKER-c0d3"
SHOP, NOTES = "-home-dev-code-shop", "-home-dev-notes"
S_A, S_B, S_C = (f"6f1d2c3b-0a9e-4d8c-b7a6-1234567890{x}" for x in ("aa", "bb", "cc"))
SONNET, HAIKU, OPUS = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805"

# request_id, raw model, session, project, UTC time, input, cache write, of it 1h, cache read, output
EXPECTED = [
    ("req_01A1", SONNET, S_A, "shop", datetime(2026, 10, 5, 9, 15, 2, 410000), 12, 30000, 30000, 0, 57),
    ("req_01S1", HAIKU, S_A, "shop", datetime(2026, 10, 5, 9, 15, 20), 2500, 4000, 0, 0, 300),
    ("req_01S2", HAIKU, S_A, "shop", datetime(2026, 10, 5, 9, 15, 26), 40, 0, 0, 4000, 90),
    ("req_01A2", SONNET, S_A, "shop", datetime(2026, 10, 5, 9, 15, 40), 8, 1200, 0, 30000, 410),
    ("req_01B1", OPUS, S_B, "shop", datetime(2026, 10, 5, 23, 59, 30), 100, 2000, None, 5000, 800),
    ("req_01C1", SONNET, S_C, "notes", datetime(2026, 10, 6, 0, 0, 10), 5, 0, 0, 0, 15),
]
EXPECTED_COLUMNS = ["request_id", "raw_model", "run_id", "project", "event_time", "input_tokens",
                    "cache_write_tokens", "cache_write_1h_tokens", "cache_read_tokens", "output_tokens"]
# Hand sums: input 12+2500+40+8+100+5; writes 30000+4000+1200+2000; 1h 30000; reads 4000+30000+5000;
# output 57+300+90+410+800+15.
TOTALS = {"input_tokens": 2665, "cache_write_tokens": 37200, "cache_write_1h_tokens": 30000,
          "cache_read_tokens": 39000, "output_tokens": 1672}


def _config(tmp_path: Path, root: Path = FIXTURE, **options) -> AispendConfig:
    return AispendConfig(warehouse=str(tmp_path / "w.duckdb"), base_dir=str(tmp_path), sources=[
        {"name": "claude", "kind": "claude_code_logs", "path": str(root), "options": options}])


def _events(config: AispendConfig) -> pl.DataFrame:
    frames = [u.load() for u in plan_units(config, config.sources[0])]
    return pl.concat(frames).sort("event_time")


def test_kind_plans_one_unit_per_project_folder(tmp_path):
    assert spec("claude_code_logs").plan is claude_code_logs.plan
    config = _config(tmp_path)
    units = plan_units(config, config.sources[0])
    assert [(u.key, u.partition, u.owns) for u in units] == [
        (SHOP, None, {"x_source": "claude", "x_source_file": SHOP}),
        (NOTES, None, {"x_source": "claude", "x_source_file": NOTES}),
    ]


def test_each_api_response_once_with_hand_counted_tokens(tmp_path):
    events = _events(_config(tmp_path, user_id="dev", team="founders"))
    assert dict(events.schema) == USAGE_EVENTS
    assert events.select(*EXPECTED_COLUMNS).rows() == EXPECTED
    assert events.select(*TOTALS).sum().row(0, named=True) == TOTALS
    assert set(events["provider"]) == {"anthropic"} and set(events["task"]) == {"coding_agent"}
    assert set(events["user_id"]) == {"dev"} and set(events["team"]) == {"founders"}
    assert set(events["status"]) == {"ok"} and events["outcome"].null_count() == events.height
    assert set(events["service_tier"]) == {"standard"} and events["request_count"].to_list() == [1] * 6
    assert "<synthetic>" not in set(events["raw_model"])


def test_cost_is_genai_prices_per_message(tmp_path):
    config = _config(tmp_path)
    con, results = load_usage(config)
    assert sorted(r.status for r in results) == ["loaded", "loaded"]
    got = dict(con.sql("SELECT request_id, cost_usd FROM usage_events").fetchall())
    for rid, model, _, _, when, inp, write, write_1h, read, out in EXPECTED:
        usage = Usage(input_tokens=inp + write + read, cache_read_tokens=read, cache_write_tokens=write,
                      output_tokens=out, **({"cache_write_1h_tokens": write_1h} if write_1h else {}))
        want = float(calc_price(usage, model, provider_id="anthropic",
                                genai_request_timestamp=when.replace(tzinfo=UTC)).total_price)
        assert got[rid] == pytest.approx(want, rel=1e-12), rid
    # msg_01A1 by hand: Sonnet 4.5 input 3, 1-hour write 6 (2x input), output 15 USD per million
    assert got["req_01A1"] == pytest.approx((12 * 3 + 30000 * 6 + 57 * 15) / 1e6, rel=1e-12)
    con.close()


def test_no_prompt_or_code_reaches_the_warehouse(tmp_path):
    config = _config(tmp_path)
    con, _ = load_usage(config)
    rows = con.sql("SELECT * FROM usage_events").fetchall() + con.sql("SELECT * FROM ingest_log").fetchall()
    con.close()
    assert rows and all(MARKER not in str(v) for row in rows for v in row)
    assert MARKER.encode() not in config.warehouse_path.read_bytes()
    assert "/home/dev" not in str(rows)  # only the last folder of cwd is kept


def test_rerun_skips_and_a_changed_session_replaces_its_project_only(tmp_path):
    root = tmp_path / "projects"
    shutil.copytree(FIXTURE, root)
    config = _config(tmp_path, root)
    con, _ = load_usage(config)
    before = con.sql("SELECT count(*), sum(output_tokens) FROM usage_events").fetchone()
    assert [r.status for r in load_table(con, config, "usage_events")] == ["unchanged", "unchanged"]
    assert con.sql("SELECT count(*), sum(output_tokens) FROM usage_events").fetchone() == before

    # The sub-agent goes on: msg_01S2 completes (output 90 -> 120) and a new message follows.
    sub = root / SHOP / S_A / "subagents" / "agent-x1.jsonl"
    last = sub.read_text().splitlines()[-1]
    done = last.replace('"output_tokens":90', '"output_tokens":120').replace('"stop_reason":null',
                                                                              '"stop_reason":"end_turn"')
    new = done.replace("msg_01S2", "msg_01S3").replace("req_01S2", "req_01S3").replace('"output_tokens":120',
                                                                                       '"output_tokens":7')
    sub.write_text(sub.read_text() + done + "\n" + new + "\n")
    statuses = {r.location: r.status for r in load_table(con, config, "usage_events")}
    assert statuses == {SHOP: "replaced", NOTES: "unchanged"}
    assert con.sql("SELECT count(*), sum(output_tokens) FROM usage_events").fetchone() == (
        before[0] + 1, before[1] + (120 - 90) + 7)
    con.close()


def test_a_corrupt_line_refuses_its_project_and_names_file_and_line(tmp_path):
    root = tmp_path / "projects"
    shutil.copytree(FIXTURE, root)
    session = root / SHOP / f"{S_B}.jsonl"
    lines = session.read_text().splitlines()
    session.write_text(lines[0][:70] + "\n" + "\n".join(lines[1:]) + "\n")  # a line cut short mid-prompt
    config = _config(tmp_path, root)
    con, loaded = load_usage(config)
    results = {r.location: r for r in loaded}
    assert results[NOTES].status == "loaded" and results[SHOP].status == "quarantined"
    assert results[SHOP].error == f"{session}, line 1: the line is not valid JSON"
    assert MARKER not in results[SHOP].error
    assert con.sql("SELECT count(*) FROM usage_events").fetchone()[0] == 1
    con.close()


def test_an_unfinished_last_line_is_left_for_the_next_run(tmp_path):
    root = tmp_path / "projects"
    shutil.copytree(FIXTURE, root)
    session = root / NOTES / f"{S_C}.jsonl"
    text = session.read_text()
    session.write_text(text + text.splitlines()[-1].replace("msg_01C1", "msg_01C2")[:120])  # being written
    events = _events(_config(tmp_path, root))
    assert events.filter(pl.col("project") == "notes")["request_id"].to_list() == ["req_01C1"]


def test_windows_line_ends_and_a_bom_read_as_the_same_events(tmp_path):
    """A session saved with CRLF line ends and a UTF-8 BOM holds the same responses; invalid UTF-8 is named by
    its line, never quoted."""
    root = tmp_path / "projects"
    shutil.copytree(FIXTURE, root)
    session = root / SHOP / f"{S_B}.jsonl"
    lines = session.read_text().splitlines()
    session.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    assert _events(_config(tmp_path, root)).select(*EXPECTED_COLUMNS).rows() == EXPECTED
    session.write_bytes("\n".join(lines).encode() + b'\n{"type": "user", "message": "caf\xe9"}\n')  # Latin-1
    config = _config(tmp_path, root)
    con, loaded = load_usage(config)
    (shop,) = [r for r in loaded if r.location == SHOP]
    assert shop.status == "quarantined" and shop.error.startswith(f"{session}, line {len(lines) + 1}: not UTF-8 text")
    con.close()


def test_bedrock_and_vertex_model_ids_and_a_single_project_folder(tmp_path):
    line = (FIXTURE / NOTES / f"{S_C}.jsonl").read_text().splitlines()[-1]
    folder = tmp_path / "-work-infra"
    folder.mkdir()
    (folder / "s.jsonl").write_text(
        line.replace(SONNET, "us.anthropic.claude-sonnet-4-20250514-v1:0") + "\n"
        + line.replace(SONNET, "claude-sonnet-4@20250514").replace("msg_01C1", "msg_v").replace("req_01C1", "req_v")
        + "\n")
    config = _config(tmp_path, folder)
    (unit,) = plan_units(config, config.sources[0])
    assert unit.key == "-work-infra"
    events = unit.load()
    assert events.select("provider", "raw_model").rows() == [
        ("aws", "us.anthropic.claude-sonnet-4-20250514-v1:0"), ("google", "claude-sonnet-4@20250514")]


@pytest.mark.parametrize(("key", "project"), [
    ("p/s.jsonl", "p"),
    ("p/s/subagents/agent-1.jsonl", "p"),
    ("p/agent-1.jsonl", "p"),
    ("nested/p/s/subagents/a.jsonl", "nested/p"),
    ("s.jsonl", "projects"),
])
def test_project_key(key, project):
    assert claude_code_logs.project_key(key, "/home/me/.claude/projects") == project
