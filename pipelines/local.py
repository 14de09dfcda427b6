"""`aispend local`: a person's own coding-agent logs, priced, in one command (docs/sources/coding_agents.md).

It finds the Claude Code and Codex CLI session folders on this machine, writes a config under `~/.aispend`
(`$HOME` respected) with a source per folder that holds session files, runs the pipeline into a warehouse
there, and says what the logs are worth at API prices next to the plans the person pays. Serving the dashboard
is the caller's (pipelines/cli.py), from a fresh process as `aispend demo` does.

The config is rewritten on every run while its first line is the marker below; a person who edits it and
deletes that line keeps their file, which is then used as it is.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import yaml

from pipelines import plans
from pipelines.sources.common import ISO_4217

MARKER = "# Written by `aispend local`"
START_DATE = date(2025, 1, 1)  # before Claude Code and Codex CLI wrote their first session logs
SESSION_FILES = "*.jsonl"
SUBSCRIPTIONS_FILE = "subscriptions.yaml"

Say = Callable[[str], None]


class LocalError(Exception):
    """What the person has to fix, said in one message (never a traceback)."""


@dataclass
class Agent:
    """One agent's logs: where they were looked for, and the folder found (None: none holds session files)."""

    tool: str
    kind: str
    source: str
    vendor: str  # whose plans cover it (pipelines/plans.py)
    looked: list[tuple[Path, str]] = field(default_factory=list)  # (folder, what was there)
    folder: Path | None = None
    files: int = 0
    first_day: date | None = None  # the oldest session file's last write (UTC): about when the logs begin


@dataclass(frozen=True)
class Plan:
    vendor: str
    plan: str
    monthly_price: float
    currency: str
    label: str


def claude_folders(env: Mapping[str, str], home: Path) -> list[Path]:
    """Where Claude Code keeps session logs: `$CLAUDE_CONFIG_DIR/projects` when set, else `~/.claude/projects`,
    then `~/.config/claude/projects` (where some versions keep them)."""
    if env.get("CLAUDE_CONFIG_DIR"):
        return [Path(env["CLAUDE_CONFIG_DIR"]).expanduser() / "projects"]
    return [home / ".claude" / "projects", home / ".config" / "claude" / "projects"]


def codex_folders(env: Mapping[str, str], home: Path) -> list[Path]:
    """Where Codex CLI keeps session logs: `$CODEX_HOME/sessions`, else `~/.codex/sessions`."""
    base = Path(env["CODEX_HOME"]).expanduser() if env.get("CODEX_HOME") else home / ".codex"
    return [base / "sessions"]


def session_files(folder: Path) -> tuple[int, date | None]:
    """How many session files the folder holds, and the UTC day the oldest of them was last written."""
    if not folder.is_dir():
        return 0, None
    stamps = [f.stat().st_mtime for f in folder.rglob(SESSION_FILES) if f.is_file()]
    first = datetime.fromtimestamp(min(stamps), timezone.utc).date() if stamps else None
    return len(stamps), first


def find(agent: Agent, candidates: list[Path]) -> Agent:
    """The first candidate folder holding session files; every folder looked at is noted with what it held."""
    for folder in candidates:
        if not folder.exists():
            agent.looked.append((folder, "no such folder"))
            continue
        if not folder.is_dir():
            agent.looked.append((folder, "not a folder"))
            continue
        count, first = session_files(folder)
        agent.looked.append((folder, f"{count} session files" if count else f"no {SESSION_FILES} session files"))
        if count and agent.folder is None:
            agent.folder, agent.files, agent.first_day = folder.resolve(), count, first
    return agent


def find_agents(env: Mapping[str, str], home: Path, claude_dir: str | None = None,
                codex_dir: str | None = None) -> list[Agent]:
    """Both agents' folders: the ones given, else the usual places. A folder given but empty is an error."""
    agents = [
        find(Agent("Claude Code", "claude_code_logs", "claude_code", "anthropic"),
             [Path(claude_dir).expanduser()] if claude_dir else claude_folders(env, home)),
        find(Agent("Codex CLI", "codex_logs", "codex", "openai"),
             [Path(codex_dir).expanduser()] if codex_dir else codex_folders(env, home)),
    ]
    for agent, given in zip(agents, (claude_dir, codex_dir)):
        if given and agent.folder is None:
            raise LocalError(f"{agent.tool}: {describe(agent)}")
    if not any(a.folder for a in agents):
        raise LocalError("no coding-agent session logs found. Looked for "
                         + "; and for ".join(f"{a.tool} session files ({SESSION_FILES}) in {describe(a)}"
                                            for a in agents)
                         + ". Point at them with --claude-dir and --codex-dir.")
    return agents


def describe(agent: Agent) -> str:
    return ", ".join(f"{folder} ({what})" for folder, what in agent.looked)


def parse_plan(text: str) -> Plan:
    """`claude max 200`, `chatgpt plus`, `cursor pro 20 eur` -> a Plan, named and priced by aispend's plan table
    (pipelines/plans.py: a number names the plan where it is one of its prices, and is the monthly price you pay
    either way); a clear LocalError otherwise."""
    words = text.lower().replace("$", " ").split()
    if not words or words[0] not in plans.VENDORS:
        raise LocalError(f"--plan {text!r}: start with the product ({', '.join(sorted(plans.VENDORS))}), e.g. "
                         "--plan \"claude max 200\"")
    vendor = plans.vendor_id(words[0])
    prices = [float(w) for w in words[1:] if re.fullmatch(r"\d+(?:\.\d+)?", w)]
    currencies = [w.upper() for w in words[1:] if w.upper() in ISO_4217]
    name = " ".join(w for w in words[1:] if not re.fullmatch(r"\d+(?:\.\d+)?", w) and w.upper() not in currencies)
    if len(prices) > 1 or len(currencies) > 1 or not name:
        raise LocalError(f"--plan {text!r}: give the plan, one monthly price at most and one currency at most, "
                         "e.g. --plan \"claude max 200\"")
    known = {(p.vendor, p.plan) for p in plans.PLANS}
    priced = plans.plan_id(vendor, f"{name} {prices[0]:g}") if prices else None
    plan = priced if (vendor, priced) in known else plans.plan_id(vendor, name)
    price = prices[0] if prices else plans.list_price(vendor, plan)
    if price is None:
        raise LocalError(f"--plan {text!r}: no list price known for that plan; add the monthly price, e.g. "
                         f"--plan \"{text} 20\"")
    return Plan(vendor, plan, price, currencies[0] if currencies else "USD", text.strip())


def subscriptions_text(plans: list[Plan], person: str, previous: Path, today: date,
                       first_days: Mapping[str, date] | None = None) -> str:
    """The plans as a subscriptions file. A plan already listed keeps the start written for it then; a new one
    starts with the month its vendor's agent logs begin (`first_days`), else this month: a guess the file says
    to correct, since nothing on the machine says when a plan was bought."""
    starts = {}
    if previous.is_file():
        try:
            old = yaml.safe_load(previous.read_text()) or {}
            starts = {(e["vendor"], e["plan"]): e["start"] for e in old.get("subscriptions", [])}
        except (yaml.YAMLError, AttributeError, KeyError, TypeError):
            starts = {}
    entries = [{"vendor": p.vendor, "plan": p.plan, "person": person, "monthly_price": p.monthly_price,
                "currency": p.currency,
                "start": starts.get((p.vendor, p.plan), (first_days or {}).get(p.vendor, today).replace(day=1))}
               for p in plans]
    return ("# Subscriptions you pay for, from `aispend local --plan ...` (docs/sources/coding_agents.md).\n"
            "# Set `start` to the first day you paid; add `end` when you stop.\n"
            + yaml.safe_dump({"subscriptions": entries}, sort_keys=False))


def config_text(agents: list[Agent], user: str, subscriptions: Path | None) -> str:
    lines = [
        MARKER + " on every run. To keep edits, delete this line: the file is then used as it is.",
        "# Your coding agents' session logs, priced at API list prices (docs/sources/coding_agents.md).",
        "warehouse: warehouse/aispend.duckdb",
        f"start_date: {START_DATE.isoformat()}",
        "checks:",
        "  # Your logs are as fresh as your last session: no warning for a quiet week.",
        "  max_age_hours: 8760",
        "sources:",
    ]
    for agent in agents:
        if agent.folder is None:
            continue
        lines += [f"  # {agent.tool}", f"  - name: {agent.source}", f"    kind: {agent.kind}",
                  f"    path: {json.dumps(str(agent.folder))}",  # a JSON string is a YAML string
                  f"    options: {{user_id: {json.dumps(user)}}}"]
    if subscriptions is not None:
        lines += ["  # Plans you pay (aispend local --plan)", "  - name: subscriptions", "    kind: subscriptions",
                  f"    path: {subscriptions.name}"]
    return "\n".join(lines) + "\n"


def write_config(out: Path, agents: list[Agent], plans: list[Plan], say: Say, today: date | None = None) -> Path:
    """Write `aispend.yaml` (and `subscriptions.yaml` when plans are given) under `out`; return the config."""
    out.mkdir(parents=True, exist_ok=True)
    config = out / "aispend.yaml"
    if config.is_file() and not config.read_text().startswith(MARKER):
        say(f"using your edited {config} as it is (it has no `{MARKER}` first line)")
        return config
    user = login_name()
    subscriptions = out / SUBSCRIPTIONS_FILE
    if plans:
        first_days = {a.vendor: a.first_day for a in agents if a.first_day}
        subscriptions.write_text(subscriptions_text(plans, user, subscriptions, today or date.today(), first_days))
        say(f"plans written to {subscriptions}: " + "; ".join(_plan_line(p) for p in plans))
    config.write_text(config_text(agents, user, subscriptions if subscriptions.is_file() else None))
    say(f"config written to {config}")
    return config


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return os.environ.get("USER") or "me"


def _plan_line(plan: Plan) -> str:
    return f"{plan.vendor} {plan.plan} {plan.monthly_price:g} {plan.currency}/month"


def summary(config_path: Path, say: Say) -> None:
    """What the logs are worth at API prices, per month and source, and the plans paid, from the warehouse."""
    from pipelines.config import load_config
    from warehouse.db import connect_writer, query, sql

    config = load_config(config_path)
    con = connect_writer(config.warehouse_path)
    try:
        months = query(con, sql("local_summary")).to_dicts()
    finally:
        con.close()
    if not months:
        say("the logs hold no API calls yet")
        return
    say("what your agents' calls would cost at API list prices (USD; unpriced calls are not counted as $0):")
    for row in months[-6:]:
        unpriced = f", {row['unpriced_calls']:,} calls unpriced" if row["unpriced_calls"] else ""
        say(f"  {row['month']}  {row['source']:<12} ${row['cost_usd'] or 0:>10,.2f}  "
            f"({row['calls']:,} calls, {row['sessions']:,} sessions{unpriced})")
    plans = config_path.parent / SUBSCRIPTIONS_FILE
    if plans.is_file():
        for entry in (yaml.safe_load(plans.read_text()) or {}).get("subscriptions", []):
            say(f"  your plan: {entry['vendor']} {entry['plan']} {entry['monthly_price']:g} "
                f"{entry['currency']}/month")
