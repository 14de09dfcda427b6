"""A small organization's inputs that name the same people everywhere: a people file, subscriptions (one entry
refused), a Copilot seat snapshot and a Claude Code report saved as the APIs answer, and usage logs with user
ids. The privacy tests (tests/pipeline/test_privacy.py) and the People & seats browser test run on it.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

KEY_ENV = "TEST_AISPEND_PSEUDONYM_KEY"
KEY = "test-key-0123456789abcdef"
NAMES = ["Ana Lima", "Bob King"]
EMAILS = ["ana.lima@acme.com", "bob.king@acme.com"]
LOGINS = ["analima-gh", "bobking-gh"]
END_USER = "someone@customer.io"  # an application's end user the logs name: not staff, still hashed
SECRETS = [*NAMES, *EMAILS, *LOGINS, END_USER]


def write_people_inputs(root: Path, pseudonymize: bool) -> Path:
    """Write the inputs and an aispend.yaml (the switch on or off) under `root`; return the config path."""
    root.mkdir(parents=True)
    (root / "people.yaml").write_text(textwrap.dedent(f"""
        people:
          - {{person: {NAMES[0]}, team: platform, email: {EMAILS[0]}, github: {LOGINS[0]}}}
          - {{person: {NAMES[1]}, team: data, email: [{EMAILS[1].upper()}], github: {LOGINS[1]}}}
        """))
    (root / "subscriptions.yaml").write_text(textwrap.dedent(f"""
        subscriptions:
          - {{vendor: Claude, plan: Max 20x, person: {NAMES[0]}, start: 2026-10-01}}
          - {{vendor: ChatGPT, plan: Plus, person: {EMAILS[1]}, start: 2026-10-01}}
        """))
    # a subscriptions file with a bad entry: its message must not carry the person either
    (root / "bad").mkdir()
    (root / "bad" / "subscriptions.csv").write_text(
        f"vendor,plan,person,start\nCursor,Pro,\"{NAMES[1]},{EMAILS[1]}\n")
    (root / "copilot").mkdir()
    seats = [{"created_at": "2026-08-01T00:00:00Z", "plan_type": "business", "assignee": {"login": login},
              "last_activity_at": "2026-11-10T08:00:00Z" if i == 0 else None} for i, login in enumerate(LOGINS)]
    (root / "copilot" / "seats-2026-11-15.json").write_text(json.dumps({"total_seats": 2, "seats": seats}))
    (root / "claude_code").mkdir()
    record = {"date": "2026-11-03T00:00:00Z", "actor": {"type": "user_actor", "email_address": EMAILS[0]},
              "customer_type": "subscription", "core_metrics": {"num_sessions": 2, "lines_of_code": {"added": 5,
              "removed": 1}, "commits_by_claude_code": 1, "pull_requests_by_claude_code": 0},
              "model_breakdown": [{"model": "claude-sonnet-4-20250514", "tokens": {"input": 1000, "output": 200,
                                   "cache_read": 0, "cache_creation": 0},
                                   "estimated_cost": {"currency": "USD", "amount": 60}}]}
    (root / "claude_code" / "2026-11-03.json").write_text(json.dumps({"data": [record], "has_more": False}))
    (root / "usage.csv").write_text(
        "timestamp,provider,model,input_tokens,output_tokens,user_id,team\n"
        f"2026-11-04T10:00:00Z,openai,gpt-4o-mini,1000,100,{EMAILS[1]},data\n"
        f"2026-11-04T11:00:00Z,openai,gpt-4o-mini,500,50,{END_USER},support\n")
    privacy = f"privacy: {{pseudonymize_people: true, key_env: {KEY_ENV}}}\n" if pseudonymize else ""
    (root / "aispend.yaml").write_text(textwrap.dedent("""
        warehouse: wh/aispend.duckdb
        start_date: 2026-08-01
        sources:
          - {name: people, kind: people, path: people.yaml}
          - {name: subs, kind: subscriptions, path: subscriptions.yaml}
          - {name: bad_subs, kind: subscriptions, path: bad/subscriptions.csv}
          - {name: copilot, kind: copilot_seats, path: "copilot/*.json"}
          - {name: claude_code, kind: claude_code_analytics, path: "claude_code/*.json"}
          - {name: app, kind: usage_csv, path: usage.csv}
        """) + privacy)
    return root / "aispend.yaml"


