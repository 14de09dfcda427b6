"""A small good file of every file kind, in its real format, and a way to put one bad value into it.

Each fixture writes a day's unit of its kind under a source folder from rows of text cells (two good rows by
default), so a case can replace one cell of one row with a bad value and know exactly which file, row and column
the refusal must name. A kind without a fixture here is skipped by the cases that need one (with that reason);
the cases that need no fixture (tests/faults/test_config_faults.py) cover every kind the registry finds.

Days: GOOD_DAY's unit stays good in every case, BAD_DAY's unit carries the fault; both in the past and inside the
partitions (config start_date 2026-09-01).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.faults import kinds_more as more

GOOD_DAY, BAD_DAY = date(2026, 10, 2), date(2026, 11, 3)
START_DATE = "2026-09-01"


def _csv(header: list[str], rows: list[dict]) -> bytes:
    def cell(value: str) -> str:
        return f'"{value}"' if any(c in value for c in ',"\n') else value

    lines = [",".join(header)] + [",".join(cell(str(r.get(h, ""))) for h in header) for r in rows]
    return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class KindFixture:
    """`rows(day)`: the good rows as text cells; `body(rows)`: the file's bytes; `name(day)`: where the day's unit
    sits below the source's folder. `amount`/`time` are the row keys of the money, token or minutes figure and of
    the row's time, `reported` what a refusal names for each (the file's own column or field); `unit` what it
    counts rows as, `lead` the lines before the first row that are not rows (a session's opening lines).

    `amount` None: the kind has no figure of its own (the cases on it are skipped, saying `skips["amount"]`).
    `scale`: what one of the file's amount is in the table's `column` (Jira's seconds are minutes / 60).
    `calendar`: the row's date is a calendar date (1900..2200), not a moment in the load window: a mapping or a
    seat may be dated ahead or far back (pipelines/sources/bounds.py). `document`: the file is one JSON document
    whose rows are not lines. `empty`: the bytes of a delivery with no rows, when not a header or nothing."""

    kind: str
    table: str
    name: Callable[[date], str]
    rows: Callable[[date], list[dict]]
    body: Callable[[list[dict]], bytes]
    amount: str | None
    time: str
    reported: dict[str, str]
    column: str | None = "BilledCost"   # the table column the amount lands in
    unit: str = "row"
    options: dict = field(default_factory=dict)
    time_text: Callable[[str], str] = lambda iso: iso   # a timestamp written as this kind writes it
    is_csv: bool = False
    lead: int = 0
    scale: float = 1.0
    calendar: bool = False
    skips: dict[str, str] = field(default_factory=dict)   # case -> why it does not apply to this kind
    document: bool = False
    empty: bytes | None = None

    def numbered(self, row: int) -> int:
        """The number a refusal gives the `row`-th row (1-based): the file's line, or its data row or entry."""
        return row + self.lead if self.unit == "line" else row

    def line_of(self, row: int, body: bytes) -> int:
        """The line of `body` (this kind's file of BAD_DAY's rows) the `row`-th row is written on: in a JSON
        document, the line holding the row's time."""
        if self.document:
            cell = json.dumps(self.rows(BAD_DAY)[row - 1][self.time]).encode()
            return body[: body.index(cell)].count(b"\n") + 1
        return row + self.lead + (1 if self.is_csv else 0)

    def nothing(self) -> bytes:
        """A delivery of the unit with no rows, as the kind writes one."""
        if self.empty is not None:
            return self.empty
        return self.body([]) if self.is_csv else b""

    def skip(self, case: str) -> None:
        if case in self.skips:
            pytest.skip(f"{self.kind}: {self.skips[case]}")

    def write(self, folder: Path, day: date, rows: list[dict] | None = None, raw: bytes | None = None) -> Path:
        path = folder / self.name(day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw if raw is not None else self.body(rows if rows is not None else self.rows(day)))
        return path

    def marker(self, day: date) -> str:
        """What the day's unit key holds, to tell it apart."""
        return str(day)

    def key(self, file: str) -> str:
        """The key of the unit a file (relative to the source's folder) belongs to."""
        return file

    def source(self, name: str, folder: Path) -> dict:
        return {"name": name, "kind": self.kind, "path": str(folder), "options": dict(self.options)}


def _iso(day: date, hour: int = 9) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


# --- cost kinds ------------------------------------------------------------------------------------------------

FOCUS_HEADER = ["BillingAccountId", "BillingCurrency", "BilledCost", "EffectiveCost", "ChargePeriodStart",
                "ChargePeriodEnd", "ChargeCategory", "ProviderName", "ServiceName"]


def _focus_rows(day: date) -> list[dict]:
    end = day + timedelta(days=1)
    return [{"BillingAccountId": "acct-1", "BillingCurrency": "USD", "BilledCost": cost, "EffectiveCost": cost,
             "ChargePeriodStart": f"{day} 00:00:00", "ChargePeriodEnd": f"{end} 00:00:00", "ChargeCategory": "Usage",
             "ProviderName": "AWS", "ServiceName": service} for cost, service in (("1.25", "Amazon S3"),
                                                                                 ("2.50", "Amazon EC2"))]


AZURE_HEADER = ["Date", "Cost", "BillingCurrency", "ChargeType", "MeterCategory", "MeterName", "Quantity",
                "BillingAccountId"]


def _azure_rows(day: date) -> list[dict]:
    return [{"Date": day.strftime("%m/%d/%Y"), "Cost": cost, "BillingCurrency": "USD", "ChargeType": "Usage",
             "MeterCategory": "Storage", "MeterName": meter, "Quantity": "1", "BillingAccountId": "ea-1"}
            for cost, meter in (("0.75", "Hot LRS"), ("3.10", "Cool LRS"))]


CUR_HEADER = ["identity/LineItemId", "bill/BillingPeriodStartDate", "bill/PayerAccountId", "lineItem/LineItemType",
              "lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/ProductCode", "lineItem/UsageType",
              "lineItem/UnblendedCost", "lineItem/CurrencyCode", "product/region"]


def _cur_rows(day: date) -> list[dict]:
    period = day.replace(day=1)
    return [{"identity/LineItemId": f"li-{day}-{i}", "bill/BillingPeriodStartDate": f"{period}T00:00:00Z",
             "bill/PayerAccountId": "111122223333", "lineItem/LineItemType": "Usage",
             "lineItem/UsageStartDate": _iso(day, 0), "lineItem/UsageEndDate": _iso(day, 1),
             "lineItem/ProductCode": "AmazonS3", "lineItem/UsageType": "Requests-Tier1",
             "lineItem/UnblendedCost": cost, "lineItem/CurrencyCode": "USD", "product/region": "us-east-1"}
            for i, cost in enumerate(("0.40", "1.60"))]


def _cur_period(day: date) -> str:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return f"{start:%Y%m%d}-{end:%Y%m%d}"


@dataclass(frozen=True)
class CurFixture(KindFixture):
    """A legacy CUR delivery: the period's top-level manifest naming one gzipped CSV of the current assembly."""

    def marker(self, day: date) -> str:
        return _cur_period(day)

    def write(self, folder: Path, day: date, rows: list[dict] | None = None, raw: bytes | None = None) -> Path:
        period = _cur_period(day)
        key = f"acme-cur/{period}/asm-1/acme-cur-1.csv.gz"
        data = folder / key
        data.parent.mkdir(parents=True, exist_ok=True)
        body = raw if raw is not None else self.body(rows if rows is not None else self.rows(day))
        data.write_bytes(gzip.compress(body))
        (folder / f"acme-cur/{period}/acme-cur-Manifest.json").write_text(json.dumps({
            "assemblyId": "asm-1", "bucket": "billing", "billingPeriod": {"start": f"{day:%Y%m}01T000000.000Z"},
            "reportKeys": [f"cur/{key}"]}))
        return data


# --- work records --------------------------------------------------------------------------------------------

WORK_HEADER = ["work_item_id", "task", "opened_at", "closed_at", "handling_minutes"]


def _work_rows(day: date) -> list[dict]:
    return [{"work_item_id": f"T-{day}-{i}", "task": "summarize", "opened_at": "",  # closed_at alone dates an item
             "closed_at": _iso(day, 9 + i), "handling_minutes": minutes} for i, minutes in enumerate(("12", "30"))]


# --- usage kinds -----------------------------------------------------------------------------------------------

USAGE_CSV_HEADER = ["timestamp", "provider", "model", "input_tokens", "output_tokens", "task"]


def _usage_csv_rows(day: date) -> list[dict]:
    return [{"timestamp": _iso(day, 9 + i), "provider": "openai", "model": "gpt-4o-mini", "input_tokens": tokens,
             "output_tokens": "40", "task": "summarize"} for i, tokens in enumerate(("1200", "800"))]


LITELLM_HEADER = ["request_id", "startTime", "endTime", "model", "custom_llm_provider", "prompt_tokens",
                  "completion_tokens", "status"]


def _litellm_rows(day: date) -> list[dict]:
    return [{"request_id": f"req-{day}-{i}", "startTime": f"{day} 09:0{i}:00", "endTime": f"{day} 09:0{i}:02",
             "model": "gpt-4o-mini", "custom_llm_provider": "openai", "prompt_tokens": tokens,
             "completion_tokens": "20", "status": "success"} for i, tokens in enumerate(("300", "500"))]


def _otel_rows(day: date) -> list[dict]:
    return [{"start_time": _iso(day, 9 + i), "end_time": _iso(day, 9 + i).replace(":00:00Z", ":00:02Z"),
             "gen_ai.usage.input_tokens": tokens, "trace": f"t{i}"} for i, tokens in enumerate(("900", "100"))]


def _otel_body(rows: list[dict]) -> bytes:
    lines = []
    for r in rows:
        attrs = {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
                 "gen_ai.usage.input_tokens": r["gen_ai.usage.input_tokens"], "gen_ai.usage.output_tokens": "30",
                 "aispend.task": "summarize"}
        lines.append(json.dumps({"name": "chat", "trace_id": r["trace"], "start_time": r["start_time"],
                                 "end_time": r["end_time"], "status": {"status_code": "OK"}, "attributes": attrs}))
    return ("\n".join(lines) + "\n").encode()


def _bedrock_rows(day: date) -> list[dict]:
    return [{"timestamp": _iso(day, 9 + i), "input.inputTokenCount": tokens, "requestId": f"r{i}"}
            for i, tokens in enumerate(("700", "300"))]


def _bedrock_body(rows: list[dict]) -> bytes:
    lines = [json.dumps({
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": r["timestamp"],
        "accountId": "111122223333", "region": "us-east-1", "requestId": r["requestId"], "operation": "Converse",
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input": {"inputContentType": "application/json", "inputTokenCount": r["input.inputTokenCount"]},
        "output": {"outputContentType": "application/json", "outputTokenCount": "50"},
        "requestMetadata": {"task": "summarize"}}) for r in rows]
    return ("\n".join(lines) + "\n").encode()


FIXTURES: dict[str, KindFixture] = {f.kind: f for f in [
    KindFixture("focus", "cost_lines", lambda d: f"focus-{d}.csv", _focus_rows, lambda r: _csv(FOCUS_HEADER, r),
                "BilledCost", "ChargePeriodStart", {"BilledCost": "BilledCost", "ChargePeriodStart": "ChargePeriodStart"},
                time_text=lambda iso: iso.replace("T", " ").removesuffix("Z"), is_csv=True),
    KindFixture("azure_ea", "cost_lines", lambda d: f"ActualCost-{d}.csv", _azure_rows,
                lambda r: _csv(AZURE_HEADER, r), "Cost", "Date", {"Cost": "Cost", "Date": "Date"},
                time_text=lambda iso: f"{iso[5:7]}/{iso[8:10]}/{iso[:4]}", is_csv=True),
    CurFixture("aws_cur", "cost_lines", lambda d: f"acme-cur/{_cur_period(d)}/asm-1/acme-cur-1.csv.gz", _cur_rows,
               lambda r: _csv(CUR_HEADER, r), "lineItem/UnblendedCost", "lineItem/UsageStartDate",
               {"lineItem/UnblendedCost": "line_item_unblended_cost",
                "lineItem/UsageStartDate": "line_item_usage_start_date"}, is_csv=True),
    KindFixture("usage_csv", "usage_events", lambda d: f"usage-{d}.csv", _usage_csv_rows,
                lambda r: _csv(USAGE_CSV_HEADER, r), "input_tokens", "timestamp",
                {"input_tokens": "input_tokens", "timestamp": "timestamp"}, is_csv=True, column="input_tokens"),
    KindFixture("litellm_spend", "usage_events", lambda d: f"spend-{d}.csv", _litellm_rows,
                lambda r: _csv(LITELLM_HEADER, r), "prompt_tokens", "startTime",
                {"prompt_tokens": "prompt_tokens", "startTime": "startTime"},
                time_text=lambda iso: iso.replace("T", " ").removesuffix("Z"), is_csv=True, column="input_tokens"),
    KindFixture("otel_genai", "usage_events", lambda d: f"{d}.jsonl", _otel_rows, _otel_body,
                "gen_ai.usage.input_tokens", "start_time",
                {"gen_ai.usage.input_tokens": "gen_ai.usage.input_tokens", "start_time": "start_time"}, unit="line", column="input_tokens"),
    KindFixture("bedrock_invocation_logs", "usage_events", lambda d: f"{d:%Y/%m/%d}/09/log-{d}.json", _bedrock_rows,
                _bedrock_body, "input.inputTokenCount", "timestamp",
                {"input.inputTokenCount": "input.inputTokenCount", "timestamp": "timestamp"}, unit="line", column="input_tokens"),
    KindFixture("work_items", "work_items", lambda d: f"items-{d}.csv", _work_rows, lambda r: _csv(WORK_HEADER, r),
                "handling_minutes", "closed_at", {"handling_minutes": "handling_minutes", "closed_at": "closed_at"},
                column="handling_minutes", is_csv=True),
]}


@dataclass(frozen=True)
class ClaudeFixture(KindFixture):
    """A unit is a project folder (named after the session's working directory), not a day."""

    def marker(self, day: date) -> str:
        return more.claude_project(day)

    def key(self, file: str) -> str:
        return file.split("/", 1)[0]


_AGENT = {"unit": "line", "column": "input_tokens", "time_text": more._ms}
_WORK = {"column": "handling_minutes"}
FIXTURES.update({f.kind: f for f in [
    ClaudeFixture("claude_code_logs", "usage_events", lambda d: f"{more.claude_project(d)}/{more.CLAUDE_SESSION}.jsonl",
                  more.claude_rows, more.claude_body, "message.usage.input_tokens", "timestamp",
                  {"message.usage.input_tokens": "message.usage.input_tokens", "timestamp": "timestamp"},
                  lead=1, **_AGENT),
    KindFixture("codex_logs", "usage_events", more.codex_name, more.codex_rows, more.codex_body,
                "payload.info.last_token_usage.input_tokens", "timestamp",
                {"payload.info.last_token_usage.input_tokens": "payload.info.last_token_usage.input_tokens",
                 "timestamp": "timestamp"}, lead=2, **_AGENT),
    KindFixture("github_prs", "work_items", lambda d: f"prs-{d}.json", more.github_rows, more.github_body, None,
                "mergedAt", {"mergedAt": "mergedAt"}, options={"task_label_prefix": "task:", "ai_label": "ai-assisted"},
                skips={"amount": "gh writes no figure per pull request (its minutes are createdAt to mergedAt)"},
                document=True, empty=b"[]\n", **_WORK),
    KindFixture("jira_issues", "work_items", lambda d: f"jira-{d}.csv", more.jira_rows, more.jira_body, "Time Spent",
                "Resolved", {"Time Spent": "Time Spent", "Resolved": "Resolved"}, time_text=more.jira_date,
                options={"task_label_prefix": "task:", "ai_label": "ai", "date_format": more.JIRA_DATES},
                is_csv=True, scale=1 / 60, skips={"case": "Jira's headers are matched exactly (Jira writes one spelling); "
                                                          "the same name twice is covered"}, **_WORK),
    KindFixture("zendesk_tickets", "work_items", lambda d: f"tickets-{d}.json", more.zendesk_rows, more.zendesk_body,
                more.ZD_MINUTES, "created_at", {more.ZD_MINUTES: more.ZD_MINUTES, "created_at": "created_at"},
                options={"task_label_prefix": "task:", "ai_label": "ai"}, column="elapsed_minutes", document=True,
                empty=b'{"tickets":[],"metric_sets":[],"next_page":null,"count":0}'),
    KindFixture("people", "people", lambda d: f"people-{d}.yaml", more.people_rows, more.people_body, None, "since",
                {"since": "since"}, column=None, time_text=lambda iso: iso[:10], lead=1, calendar=True,
                skips={"amount": "a people file holds no amounts"}),
    KindFixture("subscriptions", "seats", lambda d: f"subscriptions-{d}.yaml", more.subscription_rows,
                more.subscriptions_body, "monthly_price", "start", {"monthly_price": "monthly_price", "start": "start"},
                column="monthly_price", time_text=lambda iso: iso[:10], lead=1, calendar=True),
]})


def config_text(sources: list[dict], **extra) -> str:
    """An aispend.yaml (JSON is YAML) with these sources, the start date above and a warehouse beside it."""
    return json.dumps({"warehouse": "wh/aispend.duckdb", "start_date": START_DATE, "sources": sources, **extra})
