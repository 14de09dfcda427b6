"""`dagster dev` loads workspace.yaml: start it on 127.0.0.1 and find the assets through its GraphQL API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
QUERY = '{ assetNodes { assetKey { path } } }'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_dagster_dev_serves_the_asset_graph(tmp_path):
    port = _free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "AISPEND_CONFIG": str(tmp_path / "aispend.yaml")}
    dagster = Path(sys.executable).parent / "dagster"
    # Its own session with default signal handlers, so SIGINT reaches it and its children (STACK.md).
    proc = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        nodes = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"dagster dev exited: {proc.stderr.read()[-3000:]}"
            try:
                answer = _post(f"http://127.0.0.1:{port}/graphql", QUERY)
                nodes = answer.get("data", {}).get("assetNodes")
                if nodes:
                    break
            except OSError:
                pass
            time.sleep(3)
        assert nodes, "dagster dev did not serve the asset graph within 300 s"
        keys = sorted("/".join(n["assetKey"]["path"]) for n in nodes)
        from pipelines.defs.assets import ALL_ASSETS

        assert keys == sorted(a.key.to_user_string() for a in ALL_ASSETS)
        assert {"cost_lines", "usage_events", "task_roi", "reconciliation", "budget_status"} <= set(keys)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
