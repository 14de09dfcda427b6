"""The demo company's coding agents: three developers' Claude Code and Codex CLI session logs, as the tools
write them on each laptop (docs/sources/coding_agents.md), collected one folder per person.

The files hold every trap the readers handle: Claude Code responses streamed over several lines, sub-agent
files that repeat the parent's entry that launched them, `<synthetic>` messages, 1-hour cache writes (one
developer's setup), and Codex sessions whose token_count events repeat, start with `info: null`, and (before a
CLI upgrade halfway through the window) carry cumulative totals only. Prompts and code in them are made up:
the readers never keep them.

The agents use models the demo's applications do not (Claude Sonnet 4.5, Opus 4.1, Haiku 4.5, GPT-5 Codex),
covered by the developers' plans (Claude Max, ChatGPT Plus: in the demo's people and subscriptions files, the
login as a machine user) rather than the API invoices: their usage shows at API list prices in the logs'
figures and on People & seats next to each plan, and leaves the invoices and every application task's
allocated cost as they were.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

AGENTS_DIR = "agents"
SONNET, OPUS, HAIKU = "claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"
PROMPTS = ("Add pagination to the orders endpoint", "Why does the checkout test flake?", "Refactor the retry logic",
           "Write a migration for the new column", "Explain this stack trace", "Bump the SDK and fix the types")


@dataclass(frozen=True)
class Developer:
    name: str  # login name: usage_events.user_id, a machine user in the people file
    person: str  # the name the people file gives them (pipelines/demo/people.py)
    plan: tuple[str, str, float]  # (vendor, plan, monthly USD) their subscription covers the agent with
    team: str
    tool: str  # claude | codex
    sessions_per_weekday: float  # at full scale (the demo's default events_target)
    models: dict[str, float]  # model -> share of the calls
    projects: tuple[str, ...]
    cache_1h: bool = False  # Claude Code set up with 1-hour prompt caching
    totals_only_until: float = 0.0  # Codex: share of the window before the CLI wrote last_token_usage


DEVELOPERS = (
    Developer("ana", "Ana Souza", ("anthropic", "Claude Max 20x", 200.0), "engineering", "claude", 5.0,
              {SONNET: 0.85, OPUS: 0.15}, ("shop-api", "shop-web"), cache_1h=True),
    Developer("ben", "Ben Carter", ("anthropic", "Claude Max 5x", 100.0), "engineering", "claude", 3.0, {SONNET: 1.0},
              ("shop-web", "infra")),
    Developer("chen", "Chen Wei", ("openai", "ChatGPT Plus", 20.0), "data", "codex", 2.0, {"gpt-5-codex": 0.75, "gpt-5.1-codex": 0.25}, ("etl", "dashboards"),
              totals_only_until=0.5),
)
FULL_SCALE_EVENTS = 240_000


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _line(row: dict) -> str:
    return json.dumps(row, separators=(",", ":"))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _sessions(rng: random.Random, dev: Developer, start: date, days: int, scale: float) -> Iterator[datetime]:
    """Session start times on weekdays (the demo's developers keep their weekends), at least one a day at any
    scale."""
    for offset in range(days):
        day = start + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        expected = dev.sessions_per_weekday * scale * rng.uniform(0.6, 1.4)
        for _ in range(max(1, int(expected) + (rng.random() < expected - int(expected)))):
            yield datetime(day.year, day.month, day.day, rng.randrange(7, 19), rng.randrange(60), rng.randrange(60))


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _claude_usage(inp: int, write: int, read: int, out: int, cache_1h: bool) -> dict:
    return {"input_tokens": inp, "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": 0 if cache_1h else write,
                               "ephemeral_1h_input_tokens": write if cache_1h else 0},
            "output_tokens": out, "service_tier": "standard"}


class _ClaudeSession:
    """One Claude Code session's lines (and its sub-agents' files), written as the tool writes them."""

    def __init__(self, rng: random.Random, dev: Developer, began: datetime):
        self.rng, self.dev, self.now = rng, dev, began
        self.id = _uuid(rng)
        self.project = rng.choice(dev.projects)
        self.cwd = f"/Users/{dev.name}/code/{self.project}"
        self.lines: list[str] = []
        self.subagents: list[tuple[str, list[str]]] = []
        self.parent: str | None = None

    def _base(self, sidechain: bool = False) -> dict:
        uid = _uuid(self.rng)
        row = {"parentUuid": self.parent, "isSidechain": sidechain, "userType": "external", "cwd": self.cwd,
               "sessionId": self.id, "version": "2.0.14", "gitBranch": "main", "uuid": uid,
               "timestamp": _ts(self.now)}
        self.parent = uid
        return row

    def user(self, text: str) -> None:
        self.lines.append(_line({**self._base(), "type": "user", "message": {"role": "user", "content": text}}))

    def response(self, model: str, usage: dict, stop: str, into: list[str], sidechain: bool = False) -> str:
        """The response's lines, streamed: partial lines (no stop_reason) before the completed one."""
        mid = "msg_01" + "".join(self.rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", k=22))
        req = "req_011C" + "".join(self.rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=18))
        partials = self.rng.choice((0, 1, 1, 2))
        for i in range(partials + 1):
            done = i == partials
            row = {**self._base(sidechain), "type": "assistant", "requestId": req, "message": {
                "id": mid, "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": "Here is the change."}],
                "stop_reason": stop if done else None, "stop_sequence": None,
                "usage": {**usage, "output_tokens": usage["output_tokens"] if done else 1 + i * 7}}}
            into.append(_line(row))
            self.now += timedelta(milliseconds=self.rng.randrange(300, 2500))
        return into[-1]

    def tool_result(self) -> None:
        self.lines.append(_line({**self._base(), "type": "user", "message": {"role": "user", "content": [
            {"tool_use_id": "toolu_01", "type": "tool_result", "content": "tests passed"}]}}))
        self.now += timedelta(seconds=self.rng.randrange(2, 40))

    def run(self) -> None:
        rng = self.rng
        self.user(rng.choice(PROMPTS))
        context = rng.randrange(12_000, 25_000)
        turns = rng.randrange(6, 30)
        for turn in range(turns):
            write = rng.randrange(800, 6_000) if turn else context
            usage = _claude_usage(rng.randrange(3, 60), write, context if turn else 0, rng.randrange(80, 1_800),
                                  self.dev.cache_1h)
            model = _pick(rng, self.dev.models)  # the model per turn, as with Claude Code's opusplan
            last = self.response(model, usage, "end_turn" if turn == turns - 1 else "tool_use", self.lines)
            context += write
            if turn and rng.random() < 0.06:
                self.subagent(last)
            self.tool_result()
        if rng.random() < 0.15:  # Claude Code's own placeholder after an interrupt: not an API call
            self.response("<synthetic>", {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                                          "cache_read_input_tokens": 0, "service_tier": None}, "stop_sequence",
                          self.lines)

    def subagent(self, launched_by: str) -> None:
        """A Task-tool sub-agent: its file repeats the parent's entry that launched it, then its own work."""
        lines = [launched_by]
        context = self.rng.randrange(8_000, 15_000)
        for turn in range(self.rng.randrange(3, 10)):
            usage = _claude_usage(self.rng.randrange(3, 40), self.rng.randrange(500, 3_000) if turn else context,
                                  context if turn else 0, self.rng.randrange(60, 900), False)
            self.response(HAIKU, usage, "tool_use", lines, sidechain=True)
            context += usage["cache_creation_input_tokens"]
        self.subagents.append((f"agent-{self.rng.getrandbits(32):08x}", lines))

    def files(self) -> list[tuple[str, str]]:
        folder = "-" + self.cwd.strip("/").replace("/", "-")
        out = [(f"{folder}/{self.id}.jsonl", "\n".join(self.lines) + "\n")]
        out += [(f"{folder}/{self.id}/subagents/{name}.jsonl", "\n".join(lines) + "\n") for name, lines in self.subagents]
        return out


def _codex_session(rng: random.Random, dev: Developer, began: datetime, totals_only: bool) -> tuple[str, str]:
    sid = _uuid(rng)
    cwd = f"/home/{dev.name}/src/{rng.choice(dev.projects)}"
    model = _pick(rng, dev.models)
    now = began
    rows = [{"timestamp": _ts(now), "type": "session_meta", "payload": {
                "id": sid, "timestamp": _ts(now), "cwd": cwd, "originator": "codex_cli_rs",
                "cli_version": "0.39.0" if totals_only else "0.46.0", "instructions": None}},
            {"timestamp": _ts(now), "type": "turn_context", "payload": {
                "cwd": cwd, "approval_policy": "on-request", "model": model, "effort": "medium"}},
            {"timestamp": _ts(now), "type": "response_item", "payload": {
                "type": "message", "role": "user", "content": [{"type": "input_text", "text": rng.choice(PROMPTS)}]}},
            {"timestamp": _ts(now), "type": "event_msg", "payload": {"type": "token_count", "info": None}}]
    total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "reasoning_output_tokens": 0}
    context = rng.randrange(6_000, 14_000)
    for _ in range(rng.randrange(6, 32)):
        now += timedelta(seconds=rng.randrange(4, 90))
        chosen = _pick(rng, dev.models)
        if chosen != model:  # the person switched models (/model): a new turn_context says so
            model = chosen
            rows.append({"timestamp": _ts(now), "type": "turn_context", "payload": {
                "cwd": cwd, "approval_policy": "on-request", "model": model, "effort": "medium"}})
        out = rng.randrange(100, 2_500)
        last = {"input_tokens": context, "cached_input_tokens": int(context * rng.uniform(0.5, 0.9)),
                "output_tokens": out, "reasoning_output_tokens": int(out * rng.uniform(0.2, 0.7))}
        total = {k: total[k] + v for k, v in last.items()}
        info = {"total_token_usage": {**total, "total_tokens": total["input_tokens"] + total["output_tokens"]}}
        if not totals_only:
            info["last_token_usage"] = {**last, "total_tokens": last["input_tokens"] + last["output_tokens"]}
        event = {"timestamp": _ts(now), "type": "event_msg", "payload": {"type": "token_count", "info": info}}
        rows.append(event)
        if rng.random() < 0.2:  # the same call reported again
            rows.append({**event, "timestamp": _ts(now + timedelta(milliseconds=150))})
        context += rng.randrange(500, 4_000)
    name = f"{began:%Y/%m/%d}/rollout-{began:%Y-%m-%dT%H-%M-%S}-{sid}.jsonl"
    return name, "\n".join(_line(r) for r in rows) + "\n"


def agent_files(seed: int, start: date, days: int, events_target: int) -> list[tuple[str, str]]:
    """Every agent log file as (path below the demo folder, text), in a fixed order."""
    rng = random.Random(seed * 7919 + 13)
    scale = events_target / FULL_SCALE_EVENTS
    out: list[tuple[str, str]] = []
    for dev in DEVELOPERS:
        for began in _sessions(rng, dev, start, days, scale):
            if dev.tool == "claude":
                session = _ClaudeSession(rng, dev, began)
                session.run()
                out += [(f"{AGENTS_DIR}/{dev.name}/claude/projects/{p}", t) for p, t in session.files()]
            else:
                totals_only = (began.date() - start).days < days * dev.totals_only_until
                path, text = _codex_session(rng, dev, began, totals_only)
                out.append((f"{AGENTS_DIR}/{dev.name}/codex/sessions/{path}", text))
    return out


def agent_sources() -> str:
    """The config's sources for the developers' folders, one per person (who ran it is not in the logs)."""
    kinds = {"claude": ("claude_code_logs", "claude/projects"), "codex": ("codex_logs", "codex/sessions")}
    lines = ["  # Each developer's coding-agent logs (Claude Code, Codex CLI), collected from their laptops."]
    for dev in DEVELOPERS:
        kind, folder = kinds[dev.tool]
        lines += [f"  - name: {dev.tool}_{dev.name}", f"    kind: {kind}",
                  f"    path: {AGENTS_DIR}/{dev.name}/{folder}",
                  f"    options: {{user_id: {dev.name}, team: {dev.team}}}"]
    return "\n".join(lines) + "\n"
