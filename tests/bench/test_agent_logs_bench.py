"""bench/agent_logs.py at a tiny size: the folders it writes hold what it says (counted here from the files, as
plain JSON), and every part reads every call of them. No figure is asserted: the seconds live in
bench/README.md."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_tiny_run_reads_every_call(tmp_path):
    folder = tmp_path / "agents"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "agent_logs.py"), "--sessions", "11",
                           "--responses", "3", "--codex", "7", "--repeat", "1", "--dir", str(folder)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    claude = [json.loads(line) for path in (folder / "claude").rglob("*.jsonl")
              for line in path.read_text().splitlines()]
    completed = {line["message"]["id"] for line in claude
                 if line["type"] == "assistant" and line["message"]["stop_reason"] is not None}
    assert len(completed) == 33 and len(list(folder.rglob("subagents/*.jsonl"))) == 2
    codex = [(path, json.loads(line)) for path in (folder / "codex").rglob("*.jsonl")
             for line in path.read_text().splitlines()]
    calls = {(path, line["payload"]["info"]["total_token_usage"]["total_tokens"]) for path, line in codex
             if line["payload"].get("type") == "token_count"}
    assert len(calls) == 21 and len({path for path, _ in codex}) == 7
    rows = dict(re.findall(r"^\s+1\s+(\w+(?: \w+)?)\s+[\d.]+\s+\d+\s+[\d.]+\s+(\d+)$", done.stdout, re.M))
    assert rows == {"claude floor": "33", "claude": "33", "codex floor": "21", "codex alone": "21", "codex": "21"}
