"""bench/agent_logs.py at a tiny size: the folder it writes holds what it says (counted here from the files, as
plain JSON), and both parts read every response of it. No figure is asserted: the seconds live in
bench/README.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_tiny_run_reads_every_response(tmp_path):
    folder = tmp_path / "agents"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "agent_logs.py"), "--sessions", "11",
                           "--responses", "3", "--repeat", "1", "--dir", str(folder)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for path in folder.rglob("*.jsonl") for line in path.read_text().splitlines()]
    completed = {line["message"]["id"] for line in lines
                 if line["type"] == "assistant" and line["message"]["stop_reason"] is not None}
    assert len(completed) == 33 and len(list(folder.rglob("subagents/*.jsonl"))) == 2
    rows = {line.split()[1]: line.split()[-1] for line in done.stdout.splitlines() if line.startswith("   1 ")}
    assert rows == {"floor": "33", "reader": "33"}
