"""Small, hand-made pipeline inputs: a config over the real FOCUS sample, a few OTel spans, a task catalog."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

SPANS = [
    # (trace, task, provider, model, input incl. cache, cache_read, output, status_code, outcome)
    ("t1", "summarize_ticket", "openai", "gpt-4o-mini", 1200, 200, 150, 0, None),
    ("t1", "summarize_ticket", "openai", "gpt-4o-mini", 1300, 1000, 180, 0, "success"),
    ("t2", "summarize_ticket", "openai", "gpt-4o-mini", 900, 0, 0, 2, None),
    ("t2", "summarize_ticket", "openai", "gpt-4o-mini", 900, 0, 120, 0, "failure"),
    ("t3", "draft_reply", "anthropic", "claude-3-5-haiku-20241022", 3000, 0, 400, 0, "success"),
    ("t4", "draft_reply", "anthropic", "claude-made-up-9", 3000, 0, 400, 0, "success"),
    ("t5", None, "openai", "gpt-4o", 500, 0, 50, 0, None),
]

TASKS_YAML = """tasks:
  - task: summarize_ticket
    description: Summarize a support ticket for the on-call engineer
    human_minutes: 6
    hourly_rate_usd: 60
    review_minutes: 1
    latency_sensitive: false
  - task: draft_reply
    description: Draft a customer reply
    human_minutes: 10
    hourly_rate_usd: 45
    review_minutes: 2
    latency_sensitive: true
"""


def _kv(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def otlp_line(spans=SPANS, day: str = "2024-09-10") -> str:
    base_ns = 1725926400 * 10**9  # 2024-09-10T00:00:00Z
    out = []
    for i, (trace, task, provider, model, inp, cached, output, code, outcome) in enumerate(spans):
        attrs = [
            _kv("gen_ai.provider.name", provider),
            _kv("gen_ai.request.model", model),
            _kv("gen_ai.usage.input_tokens", inp),
            _kv("gen_ai.usage.cache_read.input_tokens", cached),
            _kv("gen_ai.usage.output_tokens", output),
            _kv("aispend.team", "support"),
        ]
        if task:
            attrs.append(_kv("aispend.task", task))
        if outcome:
            attrs.append(_kv("aispend.outcome", outcome))
        if code == 2:
            attrs.append(_kv("error.type", "timeout"))
        start = base_ns + i * 60 * 10**9
        out.append({
            "traceId": trace.ljust(32, "0"), "spanId": f"{i:016x}", "name": f"chat {model}", "kind": 3,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 1500 * 10**6),
            "attributes": attrs, "status": {"code": code},
        })
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [_kv("service.name", "helpdesk")]},
                                          "scopeSpans": [{"scope": {"name": "test"}, "spans": out}]}]})


def make_inputs(root: Path, samples: Path) -> Path:
    """Write the inputs and an aispend.yaml under root; return the config path."""
    (root / "billing").mkdir(parents=True)
    (root / "logs").mkdir()
    shutil.copy(samples / "finops-focus-sample-data" / "focus_sample.csv", root / "billing" / "focus_sample.csv")
    with gzip.open(root / "logs" / "2024-09-10.jsonl.gz", "wt") as fh:
        fh.write(otlp_line() + "\n")
    (root / "tasks.yaml").write_text(TASKS_YAML)
    config = root / "aispend.yaml"
    config.write_text(
        "warehouse: wh/aispend.duckdb\n"
        "task_catalog: tasks.yaml\n"
        "sources:\n"
        "  - {name: billing, kind: focus, path: 'billing/*.csv'}\n"
        "  - {name: app_logs, kind: otel_genai, path: 'logs/*.jsonl.gz'}\n"
    )
    return config


def load_usage(config):
    """A writer connection to the config's warehouse with prices loaded and every usage source loaded once, and
    the load's results (for tests of usage readers through the real ingest)."""
    from pipelines.loads import load_prices, load_table
    from warehouse.db import connect_writer

    con = connect_writer(config.warehouse_path)
    load_prices(con, config)
    return con, load_table(con, config, "usage_events")
