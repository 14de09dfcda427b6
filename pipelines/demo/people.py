"""The demo company's people, seats and coding tools: a people file, subscriptions, GitHub Copilot's seat
snapshots and premium-request reports, and Claude Code analytics, written as the APIs answer (saved responses).

The story the People & seats page tells (docs/sources/seats_and_agents.md): twelve Copilot Business seats, three
of them idle (one never used, two quiet for over a month) and one given up between two snapshots; premium
requests beyond the seats' allowance billed at the end of each month; the CTO's Claude Max 20x that fits her
Claude Code use, a Claude Pro seat outgrown (its Claude Code use is worth more than Max 5x) and one underused;
pooled ChatGPT Business seats and one ChatGPT Plus billed in euros (no USD figure: never converted silently).
Everything is drawn from the seed, so the same arguments give the same bytes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from pipelines.demo.agents import DEVELOPERS


@dataclass(frozen=True)
class Person:
    name: str
    team: str
    login: str              # GitHub login ("" without a Copilot seat)
    claude_code: str = ""   # Claude Code use: heavy | moderate | light | api | ""
    copilot_quiet_days: int | None = 0  # days since last Copilot activity at the end; None: never used
    user_ids: tuple[str, ...] = ()      # ids the demo's own applications log for this person (user.id)
    machine_users: tuple[str, ...] = ()  # the login their coding agents' local logs name (pipelines/demo/agents.py)

    @property
    def email(self) -> str:
        first, last = self.name.lower().split()
        return f"{first}.{last}@example.com"


PEOPLE = [
    Person("Maya Chen", "engineering", "mayachen", "heavy"),
    Person("Tom Baker", "engineering", "tbaker", "moderate", user_ids=("usr_eng003",)),
    Person("Priya Nair", "engineering", "priyan", "light"),
    Person("Lucas Silva", "engineering", "lsilva"),
    Person("Sara Novak", "engineering", "snovak", user_ids=("usr_eng011",)),
    Person("Jonas Weber", "engineering", "jweber", copilot_quiet_days=47),
    Person("Emma Rossi", "engineering", "erossi"),
    Person("Omar Haddad", "platform", "ohaddad", "api", user_ids=("usr_pla007",)),
    Person("Kenji Sato", "platform", "ksato", copilot_quiet_days=None),
    Person("Lena Fischer", "platform", "lfischer"),
    Person("Nina Petrova", "data", "npetrova", user_ids=("usr_dat002",)),
    Person("Diego Alvarez", "data", "dalvarez", copilot_quiet_days=38),
    Person("Grace Kim", "support", ""),
    Person("Ivy Moore", "marketing", ""),
    # The developers whose Claude Code and Codex logs the demo collects from their laptops (no Copilot seat)
    *(Person(d.person, d.team, "", machine_users=(d.name,)) for d in DEVELOPERS),
]
LEFT_COPILOT = "lfischer"  # listed on the earlier snapshot only: the seat was given up
CI_KEY = "ci-review-bot"    # an API key Claude Code runs under in CI
# Claude Code per working day at the heaviest: uncached input, cache reads, cache writes, output (Sonnet 4)
CLAUDE_DAY = (220_000, 9_000_000, 650_000, 160_000)
INTENSITY = {"heavy": 2.6, "moderate": 0.8, "light": 0.04, "api": 0.3}
PREMIUM_MODELS = {"Claude Sonnet 4": 0.55, "GPT-5": 0.3, "Gemini 2.5 Pro": 0.15}
PREMIUM_PER_WORKDAY = 260      # the organization's premium requests on a working day
PREMIUM_ALLOWANCE = 300        # included per Copilot Business seat and month
PREMIUM_PRICE = 0.04


def people_yaml() -> str:
    entries = []
    for p in PEOPLE:
        entry: dict = {"person": p.name, "team": p.team, "email": p.email}
        if p.login:
            entry["github"] = p.login
        if p.user_ids:
            entry["user_id"] = list(p.user_ids)
        if p.machine_users:
            entry["machine_user"] = list(p.machine_users)
        entries.append(entry)
    return ("# Who is who: the identities each source uses, mapped to a person and team (kind: people).\n"
            + yaml.safe_dump({"people": entries}, sort_keys=False, width=120))


def subscriptions_yaml(start: date) -> str:
    by = {p.name: p for p in PEOPLE}
    lines = [
        {"vendor": "anthropic", "plan": "Claude Max 20x", "person": by["Maya Chen"].email, "monthly_price": 200,
         "start": start},
        {"vendor": "anthropic", "plan": "Claude Pro", "person": by["Tom Baker"].email, "monthly_price": 20,
         "start": start},
        {"vendor": "anthropic", "plan": "Claude Pro", "person": by["Priya Nair"].email, "monthly_price": 20,
         "start": start},
        {"vendor": "openai", "plan": "ChatGPT Business", "seats": 5, "monthly_price": 30, "start": start},
        {"vendor": "openai", "plan": "ChatGPT Plus", "person": by["Emma Rossi"].email, "monthly_price": 23,
         "currency": "EUR", "start": start + timedelta(days=20)},
        {"vendor": "cursor", "plan": "Pro", "person": by["Lucas Silva"].email, "start": start},
        {"vendor": "cursor", "plan": "Pro", "person": by["Sara Novak"].email, "start": start,
         "end": start + timedelta(days=55)},
        # the plans the developers' coding agents run on (pipelines/demo/agents.py)
        *({"vendor": d.plan[0], "plan": d.plan[1], "person": by[d.person].email, "monthly_price": d.plan[2],
           "start": start} for d in DEVELOPERS),
    ]
    return ("# Plans no API reports (kind: subscriptions): monthly price per seat; default currency USD.\n"
            + yaml.safe_dump({"subscriptions": lines}, sort_keys=False, width=120))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def copilot_seats(day: date, start: date, end: date, seed: int) -> dict:
    """The seat API's answer on `day`. Each person's seat has one history (its own random stream): the created
    date, and a last activity `copilot_quiet_days` before the end (before an earlier snapshot, a recent one)."""
    seats = []
    for p in PEOPLE:
        if not p.login or (p.login == LEFT_COPILOT and day >= end):
            continue
        rng = random.Random(f"{seed}:{p.login}")
        created = datetime.combine(start - timedelta(days=rng.randint(20, 200)), datetime.min.time())
        quiet = p.copilot_quiet_days
        last_day = None if quiet is None else min(end - timedelta(days=quiet), day - timedelta(days=rng.randint(0, 2)))
        last = None if last_day is None else datetime.combine(last_day, datetime.min.time()) + timedelta(
            hours=rng.randint(8, 18))
        seats.append({"created_at": _iso(created), "updated_at": _iso(created), "pending_cancellation_date": None,
                      "last_activity_at": _iso(last) if last else None, "last_activity_editor": "vscode/1.96.0",
                      "plan_type": "enterprise" if p.name == "Maya Chen" else "business",
                      "assignee": {"login": p.login, "type": "User"}})
    return {"total_seats": len(seats), "seats": seats}


def premium_reports(start: date, end: date, seats: int, rng: random.Random) -> dict[date, dict]:
    """One report a day; the included allowance (seats x 300 a month) is used first, the rest billed."""
    reports, used, month = {}, 0, None
    day = start
    while day <= end:
        if (day.year, day.month) != month:
            month, used = (day.year, day.month), 0
        total = 0 if day.weekday() >= 5 else int(PREMIUM_PER_WORKDAY * rng.uniform(0.7, 1.3))
        items = []
        for model, share in PREMIUM_MODELS.items():
            quantity = round(total * share)
            if not quantity:
                continue
            included = max(0, min(quantity, seats * PREMIUM_ALLOWANCE - used))
            used += included
            billed = quantity - included
            items.append({"product": "Copilot", "sku": "Copilot Premium Request", "model": model,
                          "unitType": "requests", "pricePerUnit": PREMIUM_PRICE, "grossQuantity": quantity,
                          "grossAmount": round(quantity * PREMIUM_PRICE, 2), "discountQuantity": included,
                          "discountAmount": round(included * PREMIUM_PRICE, 2), "netQuantity": billed,
                          "netAmount": round(billed * PREMIUM_PRICE, 2)})
        reports[day] = {"timePeriod": {"year": day.year, "month": day.month, "day": day.day},
                        "organization": "example-co", "usageItems": items}
        day += timedelta(days=1)
    return reports


def _claude_record(day: date, actor: dict, customer: str, scale: float, rng: random.Random) -> dict:
    tokens = [int(t * scale * rng.uniform(0.6, 1.4)) for t in CLAUDE_DAY]
    cents = (tokens[0] * 3 + tokens[1] * 0.3 + tokens[2] * 3.75 + tokens[3] * 15) / 1e6 * 100
    sessions = max(1, round(6 * scale * rng.uniform(0.5, 1.5)))
    return {"date": _iso(datetime.combine(day, datetime.min.time())), "actor": actor,
            "organization_id": "00000000-0000-4000-8000-000000000001", "customer_type": customer,
            "terminal_type": rng.choice(["vscode", "iTerm.app", "tmux"]),
            "core_metrics": {"num_sessions": sessions,
                             "lines_of_code": {"added": int(400 * scale * rng.uniform(0.3, 1.7)),
                                               "removed": int(120 * scale * rng.uniform(0.3, 1.7))},
                             "commits_by_claude_code": rng.randint(0, max(1, round(4 * scale))),
                             "pull_requests_by_claude_code": rng.randint(0, max(1, round(scale)))},
            "tool_actions": {"edit_tool": {"accepted": sessions * 9, "rejected": sessions}},
            "model_breakdown": [{"model": "claude-sonnet-4-20250514",
                                 "tokens": {"input": tokens[0], "output": tokens[3], "cache_read": tokens[1],
                                            "cache_creation": tokens[2]},
                                 "estimated_cost": {"currency": "USD", "amount": round(cents, 2)}}]}


def claude_code_reports(start: date, end: date, rng: random.Random) -> dict[date, dict]:
    reports = {}
    day = start
    while day <= end:
        records = []
        for p in PEOPLE:
            if p.claude_code and day.weekday() < 5 and rng.random() < 0.85:
                customer = "api" if p.claude_code == "api" else "subscription"
                actor = {"type": "user_actor", "email_address": p.email}
                records.append(_claude_record(day, actor, customer, INTENSITY[p.claude_code], rng))
        if day.weekday() < 5:
            records.append(_claude_record(day, {"type": "api_actor", "api_key_name": CI_KEY}, "api", 0.15, rng))
        reports[day] = {"data": records, "has_more": False, "next_page": None}
        day += timedelta(days=1)
    return reports


def write_people(out_dir: Path, start: date, end: date, seed: int) -> None:
    """people.yaml, subscriptions.yaml, copilot/ (two seat snapshots, daily premium requests), claude_code/."""
    rng = random.Random(seed * 1009 + 13)
    (out_dir / "people.yaml").write_text(people_yaml())
    (out_dir / "subscriptions.yaml").write_text(subscriptions_yaml(start))
    folders = {name: out_dir / name for name in ("copilot", "copilot/premium-requests", "claude_code")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.json"):
            old.unlink()
    middle = start + (end - start) // 2
    snapshots = {}
    for day in (middle, end):
        snapshots[day] = copilot_seats(day, start, end, seed)
        _dump(folders["copilot"] / f"seats-{day.isoformat()}.json", snapshots[day])
    for day, report in premium_reports(start, end, snapshots[end]["total_seats"], rng).items():
        _dump(folders["copilot/premium-requests"] / f"{day.isoformat()}.json", report)
    for day, report in claude_code_reports(start, end, rng).items():
        _dump(folders["claude_code"] / f"{day.isoformat()}.json", report)


def _dump(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")


CONFIG_SOURCES = """\
  # People and their AI seats (docs/sources/seats_and_agents.md): who is who, plans no API reports, and saved
  # responses of the GitHub Copilot and Claude Code analytics APIs (the same sources call the APIs live when
  # given an org and a key instead of a path).
  - name: people
    kind: people
    path: people.yaml
  - name: subscriptions
    kind: subscriptions
    path: subscriptions.yaml
  - name: copilot_seats
    kind: copilot_seats
    path: "copilot/seats-*.json"
  - name: copilot_premium_requests
    kind: copilot_premium_requests
    path: "copilot/premium-requests/*.json"
  - name: claude_code
    kind: claude_code_analytics
    path: "claude_code/*.json"
"""

__all__ = ["CONFIG_SOURCES", "PEOPLE", "write_people"]
