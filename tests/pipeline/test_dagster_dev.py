"""`dagster dev` loads workspace.yaml: start it on 127.0.0.1 and find the assets, schedules and sensors through its
GraphQL API. The config names S3 sources on an endpoint where nothing listens: loading must not contact S3."""

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

REPO = Path(__file__).resolve().parents[2]
QUERY = '{ assetNodes { assetKey { path } } }'
AUTOMATION = ('{ repositoriesOrError { ... on RepositoryConnection { nodes { name schedules { name cronSchedule } '
              'sensors { name } } } } }')
CONFIG = """\
warehouse: wh/aispend.duckdb
sources:
  - name: cur
    kind: aws_cur
    path: s3://billing/cur/
    endpoint_url: http://127.0.0.1:{port}
    region: us-east-1
  - name: bedrock
    kind: bedrock_invocation_logs
    path: s3://logs/AWSLogs/
    endpoint_url: http://127.0.0.1:{port}
    region: us-east-1
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_dagster_dev_serves_the_asset_graph_schedules_and_sensors(tmp_path):
    port = _free_port()
    (tmp_path / "aispend.yaml").write_text(CONFIG.format(port=_free_port()))  # a closed port: no S3 there
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
        from pipelines.definitions import build_definitions

        expected = build_definitions(str(tmp_path / "aispend.yaml"))
        assert keys == sorted(k.to_user_string() for k in expected.resolve_asset_graph().get_all_asset_keys())
        assert {"cost_lines", "usage_events", "task_roi", "reconciliation", "budget_status"} <= set(keys)

        repos = _post(f"http://127.0.0.1:{port}/graphql", AUTOMATION)["data"]["repositoriesOrError"]["nodes"]
        schedules = {s["name"]: s["cronSchedule"] for r in repos for s in r["schedules"]}
        sensors = sorted(s["name"] for r in repos for s in r["sensors"])
        assert schedules == {"daily_usage": "0 6 * * *", "daily_costs": "0 6 * * *"}
        assert sensors == ["bedrock_new_logs", "cur_new_manifests", "marts_after_ingest"]
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
