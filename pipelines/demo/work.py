"""The demo company's work records, and which of its AI runs served which of them.

Most demo tasks get work items (docs/evidence.md), in the format its team's system exports: contracts, meeting
notes, invoices and the rest in the generic `work_items` CSV, code reviews as a GitHub PR export, SQL requests as
a Jira CSV export, support replies as Zendesk tickets with metrics. The effects are chosen so every verdict
appears: contract_summary clearly saves time (a before/after adoption), code_review looks impressive but makes
no measurable difference, sql_generation costs time (fixing generated SQL outweighs writing it), support replies
are faster but reopen more, and market_research has too few items to say anything.

Each run of a task with work records serves one AI-assisted item (the demo's AI costs and reviews are then
costs of the items it measures), and baseline items come beside them in each task's proportion. An AI-assisted
item is named by its run (the span attribute `aispend.work_item`) or marked in its record (a label, a tag, the
`ai_assisted` column). Items are drawn with their own seeded `random.Random`, after the spans, so the spans, and
every cost the demo shows, are exactly what they were without work items.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from pipelines.demo.catalog import TASKS

WORK_DIR = Path("work")
JIRA_ZONE = "America/New_York"
JIRA_DATES = "%d/%b/%y %-I:%M %p"  # Jira's default display format (the hour is not zero-padded)
TIME_FIELD = 360011  # the support desk's Time Tracking field: seconds spent on a ticket


@dataclass(frozen=True)
class WorkPlan:
    task: str
    system: str                 # work_items | github_prs | jira_issues | zendesk_tickets
    ai_share: float             # share of a day's items done with AI once the task is live (sets the baseline's volume)
    baseline_minutes: float     # mean minutes without AI (lognormal)
    ai_minutes: float           # mean minutes with AI
    sigma: float                # lognormal spread of the minutes
    coverage: float = 1.0       # share of the task's runs that serve a recorded item (each such run: one item)
    linked_share: float = 0.8   # share of AI items whose run names them (the rest are marked in the record)
    before_days: int = 0        # baseline-only days before the logs start (a before/after adoption)
    reopen: tuple[float, float] = (0.0, 0.0)   # baseline, AI
    good_rating: tuple[float, float] = (0.0, 0.0)  # share of rated items rated good, baseline and AI


PLANS: tuple[WorkPlan, ...] = (
    WorkPlan("contract_summary", "work_items", 1.0, 50, 22, 0.35, before_days=63),
    WorkPlan("code_review", "github_prs", 0.5, 1560, 1560, 0.8, linked_share=0.7),
    WorkPlan("sql_generation", "jira_issues", 0.5, 25, 34, 0.35, linked_share=0.5, reopen=(0.05, 0.05)),
    WorkPlan("support_reply_draft", "zendesk_tickets", 0.6, 16, 9, 0.5, reopen=(0.06, 0.17),
             good_rating=(0.85, 0.85)),
    WorkPlan("market_research", "work_items", 0.6, 240, 200, 0.5, coverage=0.03, linked_share=1.0),
    WorkPlan("meeting_summary", "work_items", 0.7, 18, 6, 0.4),
    WorkPlan("invoice_extraction", "work_items", 0.8, 5, 1.5, 0.4),
    WorkPlan("support_ticket_triage", "work_items", 0.9, 3.5, 1.0, 0.4),
    WorkPlan("translation", "work_items", 0.7, 14, 8, 0.4),
    WorkPlan("product_description", "work_items", 0.6, 12, 12, 0.5),
    WorkPlan("log_triage", "work_items", 0.5, 20, 17, 0.6),
)
TEAMS = {t.task: t.team for t in TASKS}
PEOPLE = {"support": 24, "platform": 60, "engineering": 35, "sales": 18, "legal": 4, "finance": 6, "data": 9,
          "marketing": 7, "strategy": 3}

ITEM_SCHEMA = {
    "task": pl.String, "system": pl.String, "work_item_id": pl.String, "day": pl.Date, "closed_at": pl.Datetime("us"),
    "minutes": pl.Float64, "wait_minutes": pl.Float64, "ai": pl.Boolean, "linked": pl.Boolean, "reopened": pl.Boolean,
    "rating": pl.String, "person": pl.String, "team": pl.String, "trace_id": pl.String,
}


def _lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(mean) - sigma ** 2 / 2, sigma)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal for large ones (a day's baseline items)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def task_runs(spans: pl.DataFrame) -> pl.DataFrame:
    """Every run (trace) of a named task: task, day, trace_id, in time order within the day."""
    return (spans.filter(pl.col("task").is_not_null())
            .group_by("task", "day", "trace_id").agg(pl.col("start_ns").min())
            .sort("task", "day", "start_ns", "trace_id"))


def draw_items(seed: int, start: date, days: int, spans: pl.DataFrame) -> pl.DataFrame:
    """Every work item in a fixed order (plan, then day). Each covered run serves one AI-assisted item (its
    `trace_id`); baseline items come beside them in the plan's proportion, or before the logs start."""
    rng = random.Random(seed * 7919 + 12)
    grouped = task_runs(spans).group_by("task", "day", maintain_order=True).agg("trace_id")
    runs = {(task, day): ids for task, day, ids in grouped.iter_rows()}
    cols: dict[str, list] = {name: [] for name in ITEM_SCHEMA}
    serial = {"github_prs": 4000, "jira_issues": 100, "zendesk_tickets": 52000, "work_items": 1}
    for plan in PLANS:
        daily = [runs.get((plan.task, start + timedelta(days=d)), []) for d in range(days)]
        mean_ai = plan.coverage * sum(len(r) for r in daily) / max(sum(1 for r in daily if r), 1)
        for d in range(-plan.before_days, days):
            day = start + timedelta(days=d)
            traces = [t for t in (daily[d] if d >= 0 else []) if rng.random() < plan.coverage]
            expected = len(traces) * (1 - plan.ai_share) / plan.ai_share if d >= 0 else mean_ai
            kinds = [(True, t) for t in traces] + [(False, None)] * _poisson(rng, expected)
            for ai, trace in kinds:
                serial[plan.system] += 1
                _append(cols, rng, plan, _item_id(plan, serial), day, ai, trace)
    return pl.DataFrame(cols, schema=ITEM_SCHEMA)


def _append(cols: dict[str, list], rng: random.Random, plan: WorkPlan, item_id: str, day: date, ai: bool,
            trace: str | None) -> None:
    team = TEAMS[plan.task]
    rated = rng.random() < 0.6
    good = rng.random() < plan.good_rating[ai]
    for name, value in (
        ("task", plan.task), ("system", plan.system), ("work_item_id", item_id), ("day", day),
        ("closed_at", datetime.combine(day, datetime.min.time()) + timedelta(hours=9 + rng.random() * 9)),
        ("minutes", round(_lognormal(rng, plan.ai_minutes if ai else plan.baseline_minutes, plan.sigma), 1)),
        ("wait_minutes", round(rng.uniform(5, 240), 1)), ("ai", ai),
        ("linked", ai and rng.random() < plan.linked_share), ("reopened", rng.random() < plan.reopen[ai]),
        ("rating", ("good" if good else "bad") if rated else rng.choice(["offered", "unoffered"])),
        ("person", f"usr_{team[:3]}{rng.randrange(PEOPLE[team]):03d}"), ("team", team), ("trace_id", trace),
    ):
        cols[name].append(value)


def _item_id(plan: WorkPlan, serial: dict[str, int]) -> str:
    n = serial[plan.system]
    if plan.system == "github_prs":
        return f"PR-{n}"
    if plan.system == "jira_issues":
        return f"DATA-{n}"
    if plan.system == "zendesk_tickets":
        return f"ZD-{n}"
    return f"{plan.task.split('_')[0][:4].upper()}-{n:05d}"


def link_runs(items: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    """The spans with `work_item`: the item a run served, where the run names it (linked items only)."""
    named = items.filter(pl.col("linked")).select("trace_id", pl.col("work_item_id").alias("work_item"))
    return spans.join(named, on="trace_id", how="left", maintain_order="left")


# --- the files, one writer per work system -------------------------------------------------------------------

def _local(ts: datetime, zone: str) -> datetime:
    return ts.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))


def write_work(items: pl.DataFrame, out_dir: Path) -> None:
    folder = out_dir / WORK_DIR
    for sub, pattern in (("generic", "*.csv"), ("github", "*.json"), ("jira", "*.csv"), ("zendesk", "*.json.gz")):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        for old in (folder / sub).glob(pattern):
            old.unlink()
    rows = {s: items.filter(pl.col("system") == s).to_dicts() for s in
            ("work_items", "github_prs", "jira_issues", "zendesk_tickets")}
    _generic(rows["work_items"], folder / "generic")
    _github(rows["github_prs"], folder / "github" / "code-review-prs.json")
    _jira(rows["jira_issues"], folder / "jira" / "DATA-issues.csv")
    _zendesk(rows["zendesk_tickets"], folder / "zendesk")


def _generic(rows: list[dict], folder: Path) -> None:
    by_task: dict[str, list[str]] = {}
    for r in rows:
        opened = r["closed_at"] - timedelta(minutes=r["minutes"] + r["wait_minutes"])
        marked = "yes" if r["ai"] and not r["linked"] else ("no" if not r["ai"] and r["minutes"] > 60 else "")
        by_task.setdefault(r["task"], []).append(",".join([
            r["work_item_id"], r["task"], opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
            r["closed_at"].strftime("%Y-%m-%dT%H:%M:%SZ"), f"{r['minutes']:.1f}", marked, r["team"], r["person"],
            "true" if r["reopened"] else "false"]))
    header = "work_item_id,task,opened_at,closed_at,handling_minutes,ai_assisted,team,person,reopened"
    for task, lines in by_task.items():
        (folder / f"{task}.csv").write_text("\n".join([header, *lines]) + "\n")


def _github(rows: list[dict], path: Path) -> None:
    prs = []
    for i, r in enumerate(rows):
        created = r["closed_at"] - timedelta(minutes=r["minutes"])
        abandoned = i % 23 == 7
        labels = [{"id": "LA_kwDOAiRev", "name": "ai-review", "description": "Reviewed by the AI bot",
                   "color": "0e8a16"}] if r["ai"] and not r["linked"] else []
        if i % 31 == 3:
            labels.append({"id": "LA_kwDORevt", "name": "reverted", "description": "", "color": "b60205"})
        when = r["closed_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
        prs.append({"author": {"id": f"MDQ6VXNlcj{i % 97:03d}", "is_bot": False, "login": r["person"], "name": ""},
                    "closedAt": when, "createdAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "labels": labels,
                    "mergedAt": None if abandoned else when, "number": int(r["work_item_id"][3:]),
                    "title": f"Change {r['work_item_id'][3:]}"})
    path.write_text(json.dumps(sorted(prs, key=lambda p: -p["number"]), indent=1) + "\n")


def _jira(rows: list[dict], path: Path) -> None:
    header = ("Summary,Issue key,Issue id,Issue Type,Status,Project key,Assignee,Reporter,Created,Updated,Resolved,"
              "Labels,Labels,Labels,Description,Time Spent,Original Estimate")
    lines = [header]
    for i, r in enumerate(rows):
        created = _local(r["closed_at"] - timedelta(minutes=r["minutes"] + r["wait_minutes"] * 8), JIRA_ZONE)
        resolved = _local(r["closed_at"], JIRA_ZONE)
        labels = ["ai-assisted" if r["ai"] and not r["linked"] else "", "reopened" if r["reopened"] else "",
                  ["sql", "dashboard", "report"][i % 3]]
        key = r["work_item_id"]
        lines.append(",".join([
            f"Request {key}", key, str(10000 + int(key[5:])), "Task", "Done", "DATA", r["person"], "usr_dat000",
            created.strftime(JIRA_DATES), resolved.strftime(JIRA_DATES), resolved.strftime(JIRA_DATES), *labels,
            '"Asked in #data-help.\nNeeds a query, and a chart"', str(int(round(r["minutes"] * 60))), "3600"]))
    path.write_text("\n".join(lines) + "\n")


def _zendesk(rows: list[dict], folder: Path) -> None:
    """One incremental-export page (tickets with sideloaded metric_sets) per month, gzipped."""
    pages: dict[str, tuple[list, list]] = {}
    for r in rows:
        waited = round(r["wait_minutes"] / 4)
        business = round(r["minutes"] * 1.5 + waited)  # hands-on time is part of the ticket's turnaround
        calendar = business * 3 + round(r["wait_minutes"] * 2)
        created = r["closed_at"] - timedelta(minutes=calendar)
        number = int(r["work_item_id"][3:])
        tags = ["ai_draft"] if r["ai"] and not r["linked"] else []
        tickets, metrics = pages.setdefault(r["closed_at"].strftime("%Y-%m"), ([], []))
        tickets.append({"id": number, "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "updated_at": r["closed_at"].strftime("%Y-%m-%dT%H:%M:%SZ"), "status": "solved",
                        "subject": f"Question {number}", "tags": tags, "assignee_id": 361000 + int(r["person"][-3:]),
                        "custom_fields": [{"id": TIME_FIELD, "value": round(r["minutes"] * 60)},
                                          {"id": 360012, "value": ["web"]}],
                        "satisfaction_rating": {"score": r["rating"]}})
        metrics.append({"ticket_id": number, "reopens": int(r["reopened"]), "replies": 2,
                        "solved_at": r["closed_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "full_resolution_time_in_minutes": {"calendar": calendar, "business": business},
                        "agent_wait_time_in_minutes": {"calendar": waited * 3, "business": waited}})
    for month, (tickets, metrics) in sorted(pages.items()):
        page = {"tickets": tickets, "metric_sets": metrics, "end_of_stream": True, "after_cursor": None}
        (folder / f"tickets-{month}.json.gz").write_bytes(
            gzip.compress(json.dumps(page).encode(), compresslevel=6, mtime=0))


CONFIG_SOURCES = f"""\
  # Work records AI-assisted work is measured against (docs/evidence.md), as each team's system exports them.
  - name: work
    kind: work_items
    path: "work/generic/*.csv"
  - name: code_review_prs
    kind: github_prs
    path: "work/github/*.json"
    options: {{task: code_review, ai_label: ai-review, reverted_label: reverted, team: engineering}}
  - name: data_jira
    kind: jira_issues
    path: "work/jira/*.csv"
    options: {{task: sql_generation, ai_label: ai-assisted, reopened_label: reopened, timezone: {JIRA_ZONE},
              team: data}}
  - name: support_tickets
    kind: zendesk_tickets
    path: "work/zendesk/*.json.gz"
    options: {{task: support_reply_draft, ai_label: ai_draft, time_field_id: {TIME_FIELD}, team: support}}
"""
