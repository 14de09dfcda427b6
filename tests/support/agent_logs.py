"""Coding agents' session logs counted by their documented rules, written out plainly (docs/sources/
coding_agents.md), independent of the readers: what a test expects the warehouse to hold."""

from __future__ import annotations

import json
from pathlib import Path


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def claude_calls(folder: Path) -> dict[str, dict]:
    """Per message id, the usage of its completed line (else its last), over every file: the rule written
    out plainly, independent of the reader."""
    calls: dict[str, tuple[bool, dict]] = {}
    for path in sorted(folder.rglob("*.jsonl")):
        for row in jsonl(path):
            msg = row.get("message") or {}
            if row.get("type") != "assistant" or "usage" not in msg or msg.get("model") == "<synthetic>":
                continue
            done = msg.get("stop_reason") is not None
            if msg["id"] not in calls or done or not calls[msg["id"]][0]:
                calls[msg["id"]] = (done, msg["usage"])
    return {k: usage for k, (_, usage) in calls.items()}


def codex_calls(folder: Path) -> list[dict]:
    """Per session, each token_count event whose cumulative total moved, with its own usage."""
    out = []
    for path in sorted(folder.rglob("*.jsonl")):
        previous = None
        for row in jsonl(path):
            info = row["payload"].get("info") if row["type"] == "event_msg" else None
            if row["type"] != "event_msg" or row["payload"]["type"] != "token_count" or info is None:
                continue
            total = info["total_token_usage"]
            if total == previous:
                continue
            base = previous or dict.fromkeys(total, 0)
            out.append(info.get("last_token_usage") or {k: total[k] - base[k] for k in total})
            previous = total
    return out


def agent_totals(root: Path) -> tuple[int, int]:
    """(calls, output tokens) of every agent log under a demo folder's agents/."""
    claude = [u for person in sorted((root / "agents").iterdir()) if (person / "claude").is_dir()
              for u in claude_calls(person / "claude").values()]
    codex = [u for person in sorted((root / "agents").iterdir()) if (person / "codex").is_dir()
             for u in codex_calls(person / "codex")]
    return len(claude) + len(codex), sum(u["output_tokens"] for u in claude + codex)
