"""Fixtures of the kinds added after the fault matrix: the coding agents' logs, the work-system exports, and the
hand-written people and subscriptions files, each in its real format (docs/sources/coding_agents.md,
docs/sources/work_items.md, docs/sources/seats_and_agents.md), with the traps of each format in the good rows.

A bad cell is written as the format would carry it: a token count that parses as a JSON number is written as one
(`1e30`, `-5`, `2.5`), anything else as a string (`"Infinity"`: a number no JSON parser accepts bare).
"""

from __future__ import annotations

import json
import re
from datetime import date

_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


def _num(cell: str) -> object:
    """The cell as JSON writes it: a number when it is one, else the text."""
    return json.loads(cell) if _NUMBER.fullmatch(cell) else cell


def _iso_ms(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00.000Z"


def _ms(iso: str) -> str:
    """An ISO moment as the agents write it (milliseconds, Z)."""
    return iso.replace("Z", ".000Z") if "." not in iso else iso


def _lines(records: list[dict]) -> bytes:
    return ("\n".join(json.dumps(r, separators=(",", ":")) for r in records) + "\n").encode()


# --- Claude Code: ~/.claude/projects/<cwd with dashes>/<session>.jsonl ----------------------------------------

CLAUDE_SESSION = "6f1d2c3b-0a9e-4d8c-b7a6-1234567890dd"


def claude_project(day: date) -> str:
    """The project folder of a day's session: Claude Code names it after the working directory."""
    return f"-home-dev-code-release-{day}"


def claude_rows(day: date) -> list[dict]:
    return [{"timestamp": _iso_ms(day, 9, i), "message.usage.input_tokens": tokens, "id": f"msg_{day:%m%d}{i}"}
            for i, tokens in enumerate(("1200", "800"))]


def claude_body(rows: list[dict]) -> bytes:
    """A user prompt on line 1 (text never read), then one completed assistant response per row; the first
    response is preceded by nothing else so row n sits on line n + 1. Cache reads and 1-hour writes are set on
    the responses (the four counts are disjoint: input_tokens is uncached input only)."""
    cwd = "/home/dev/code/release"
    base = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": cwd,
            "sessionId": CLAUDE_SESSION, "version": "2.0.14", "gitBranch": "main"}
    first = rows[0]["timestamp"] if rows else "2026-10-01T00:00:00.000Z"
    out = [{**base, "uuid": "u-1", "timestamp": first, "type": "user",
            "message": {"role": "user", "content": "PROMPT-MARKER never stored"}}]
    for r in rows:
        usage = {"input_tokens": _num(r["message.usage.input_tokens"]), "cache_creation_input_tokens": 3000,
                 "cache_read_input_tokens": 9000,
                 "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 3000},
                 "output_tokens": 57, "service_tier": "standard"}
        out.append({**base, "uuid": f"a-{r['id']}", "timestamp": r["timestamp"], "type": "assistant",
                    "requestId": f"req_{r['id']}",
                    "message": {"id": r["id"], "type": "message", "role": "assistant",
                                "model": "claude-sonnet-4-5-20250929",
                                "content": [{"type": "text", "text": "PROMPT-MARKER never stored"}],
                                "stop_reason": "end_turn", "stop_sequence": None, "usage": usage}})
    return _lines(out) if rows else b""


# --- Codex CLI: ~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<session>.jsonl --------------------------------------

CODEX_SESSION = "0199b0c1-d2e3-7f40-8a51-b2c3d4e5f6dd"


def codex_name(day: date) -> str:
    return f"{day:%Y/%m/%d}/rollout-{day}T09-00-00-{CODEX_SESSION}.jsonl"


def codex_rows(day: date) -> list[dict]:
    return [{"timestamp": _iso_ms(day, 9, i), "payload.info.last_token_usage.input_tokens": tokens}
            for i, tokens in enumerate(("1200", "800"))]


def codex_body(rows: list[dict]) -> bytes:
    """session_meta and turn_context (lines 1-2), then one token_count event per row: this call's usage in
    `last_token_usage`, the session's cumulative usage in `total_token_usage` (output includes reasoning). The
    session total adds only well-formed counts, so a bad cell sits in `last_token_usage` alone and the refusal
    names the field the row varies."""
    if not rows:
        return b""
    first = rows[0]["timestamp"]
    out: list[dict] = [
        {"timestamp": first, "type": "session_meta",
         "payload": {"id": CODEX_SESSION, "timestamp": first, "cwd": "/home/dev/code/release",
                     "originator": "codex_cli_rs", "cli_version": "0.46.0", "instructions": "PROMPT-MARKER"}},
        {"timestamp": first, "type": "turn_context",
         "payload": {"cwd": "/home/dev/code/release", "model": "gpt-5-codex", "effort": "medium"}},
    ]
    total_in = total_out = 0
    for r in rows:
        cell = r["payload.info.last_token_usage.input_tokens"]
        total_in += int(cell) if cell.isdigit() else 0
        total_out += 500
        last = {"input_tokens": _num(cell), "cached_input_tokens": 0, "output_tokens": 500,
                "reasoning_output_tokens": 200, "total_tokens": 500}
        total = {"input_tokens": total_in, "cached_input_tokens": 0, "output_tokens": total_out,
                 "reasoning_output_tokens": 200 * (total_out // 500), "total_tokens": total_in + total_out}
        out.append({"timestamp": r["timestamp"], "type": "event_msg",
                    "payload": {"type": "token_count", "info": {"total_token_usage": total, "last_token_usage": last,
                                                                "model_context_window": 272000}}})
    return _lines(out)


# --- GitHub pull requests: `gh pr list --state all --json number,title,createdAt,mergedAt,closedAt,labels,author`

def github_rows(day: date) -> list[dict]:
    return [{"number": str(40 + i), "createdAt": f"{day}T0{7 + i}:00:00Z", "mergedAt": f"{day}T1{i}:30:00Z"}
            for i in range(2)]


def github_body(rows: list[dict]) -> bytes:
    """One JSON array; the title is never read; a label names the task, another AI assistance."""
    prs = [{"number": int(r["number"]), "title": "PROMPT-MARKER fix checkout", "createdAt": r["createdAt"],
            "mergedAt": r["mergedAt"], "closedAt": r["mergedAt"],
            "labels": [{"id": "LA_1", "name": "task:code_review", "color": "ededed"},
                       {"id": "LA_2", "name": "ai-assisted", "color": "0e8a16"}],
            "author": {"id": "MDQ6", "login": "analima", "is_bot": False}} for r in rows]
    return json.dumps(prs, indent=2).encode()


# --- Jira CSV export ---------------------------------------------------------------------------------------------

JIRA_HEADER = ["Summary", "Issue key", "Issue id", "Status", "Created", "Resolved", "Time Spent", "Assignee",
               "Labels", "Labels"]
JIRA_DATES = "%d/%b/%Y %I:%M %p"   # a site showing four-digit years (the default `21/Nov/26` cannot say 9999)


def jira_date(iso: str) -> str:
    """An ISO moment in the export's display format (`03/Nov/2026 09:00 AM`)."""
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime(JIRA_DATES)


def jira_rows(day: date) -> list[dict]:
    return [{"Summary": "PROMPT-MARKER, quoted", "Issue key": f"DATA-{day:%m%d}{i}", "Issue id": str(10000 + i),
             "Status": "Done", "Created": jira_date(f"{day}T08:0{i}:00Z"), "Resolved": jira_date(f"{day}T1{i}:00:00Z"),
             "Time Spent": seconds, "Assignee": "ana", "labels": ["task:triage", "ai"]}
            for i, seconds in enumerate(("1800", "5400"))]


def jira_body(rows: list[dict]) -> bytes:
    """Labels repeat their header once per value (the trap: every `Labels` column is read)."""
    def cell(value: str) -> str:
        return f'"{value}"' if any(c in value for c in ',"\n') else value

    lines = [",".join(JIRA_HEADER)]
    for r in rows:
        cells = [cell(str(r.get(h, ""))) for h in JIRA_HEADER[:-2]] + list(r["labels"])
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


# --- Zendesk tickets with sideloaded metric sets -----------------------------------------------------------------

ZD_MINUTES = "full_resolution_time_in_minutes.business"


def zendesk_rows(day: date) -> list[dict]:
    return [{"id": str(4520 + i), "created_at": f"{day}T08:0{i}:00Z", "solved_at": f"{day}T1{i}:00:00Z",
             ZD_MINUTES: minutes, "score": score} for i, (minutes, score) in enumerate((("95", "good"),
                                                                                       ("240", "offered")))]


def zendesk_body(rows: list[dict]) -> bytes:
    """`GET /api/v2/tickets.json?include=metric_sets`: elapsed minutes in business hours (the calendar side is
    larger: the trap is reading the wrong one); an offered but unanswered rating is no rating, never a bad one."""
    tickets = [{"id": int(r["id"]), "subject": "PROMPT-MARKER", "created_at": r["created_at"], "status": "solved",
                "tags": ["task:support_reply", "ai"], "assignee_id": 9001,
                "satisfaction_rating": {"score": r["score"]}} for r in rows]
    metrics = [{"id": 77000 + i, "ticket_id": int(r["id"]), "reopens": 0, "replies": 2, "solved_at": r["solved_at"],
                "full_resolution_time_in_minutes": {"calendar": 1440, "business": _num(r[ZD_MINUTES])},
                "agent_wait_time_in_minutes": {"calendar": 0, "business": 0}} for i, r in enumerate(rows)]
    return json.dumps({"tickets": tickets, "metric_sets": metrics, "next_page": None, "count": len(rows)}).encode()


# --- people and subscriptions (YAML, one entry per line in flow style) ------------------------------------------

def people_rows(day: date) -> list[dict]:
    # The first person has two emails: two identities from one entry, so frame rows are not entries.
    return [{"person": "Ana Lima", "team": "platform", "email": f"[ana-{day}@acme.com, ana.lima-{day}@acme.com]",
             "github": f"analima{day:%m%d}", "since": "2026-01-01"},
            {"person": "Bo Chen", "team": "support", "email": f"bo-{day}@acme.com", "github": f"bochen{day:%m%d}",
             "since": str(day)}]


def _yaml(key: str, rows: list[dict]) -> bytes:
    lines = [f"{key}:"] + ["  - {" + ", ".join(f"{k}: {v}" for k, v in r.items()) + "}" for r in rows]
    return ("\n".join(lines) + "\n").encode() if rows else b""


def people_body(rows: list[dict]) -> bytes:
    return _yaml("people", rows)


def subscription_rows(day: date) -> list[dict]:
    return [{"vendor": "anthropic", "plan": "Claude Max 20x", "person": "ana@acme.com", "monthly_price": "200",
             "currency": "USD", "start": "2026-01-01"},
            {"vendor": "openai", "plan": "ChatGPT Business", "seats": "6", "monthly_price": "30", "start": str(day)}]


def subscriptions_body(rows: list[dict]) -> bytes:
    return _yaml("subscriptions", rows)
