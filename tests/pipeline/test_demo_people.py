"""The demo's people, seats and coding tools tell the People & seats story, read back from the files it writes
(saved API responses, YAML) and from the warehouse the pipeline builds over them, never from the generator."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import duckdb
import pytest
import yaml

from pipelines.config import load_config
from pipelines.demo import generate_demo
from pipelines.plan import run_in_process
from pipelines.sources import plan_units

END = date(2026, 11, 15)
DAYS = 40


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("demo-people"), seed=7, end_date=END, days=DAYS,
                         events_target=1_500).parent


def _seats(path) -> dict[str, dict]:
    return {s["assignee"]["login"]: s for s in json.loads(path.read_text())["seats"]}


def test_files_and_sources(demo):
    config = load_config(demo / "aispend.yaml")
    kinds = {s.name: s.kind for s in config.sources}
    assert {k: kinds[k] for k in ("people", "subscriptions", "copilot_seats", "copilot_premium_requests",
                                  "claude_code")} == {
        "people": "people", "subscriptions": "subscriptions", "copilot_seats": "copilot_seats",
        "copilot_premium_requests": "copilot_premium_requests", "claude_code": "claude_code_analytics"}
    source = {s.name: s for s in config.sources}
    assert len(plan_units(config, source["copilot_premium_requests"])) == DAYS
    assert len(plan_units(config, source["claude_code"])) == DAYS
    snapshots = sorted((demo / "copilot").glob("seats-*.json"))
    assert [p.name for p in snapshots] == ["seats-2026-10-26.json", "seats-2026-11-15.json"]
    first, last = (_seats(p) for p in snapshots)
    assert set(first) - set(last) == {"lfischer"}  # a seat given up between the snapshots
    # three seats nobody used in the 30 days to the end: never, or last active more than 30 days before
    quiet = {login for login, s in last.items() if s["last_activity_at"] is None
             or datetime.fromisoformat(s["last_activity_at"].replace("Z", "")).date() < END - timedelta(days=29)}
    assert quiet == {"ksato", "jweber", "dalvarez"}
    subs = yaml.safe_load((demo / "subscriptions.yaml").read_text())["subscriptions"]
    assert any(s.get("currency") == "EUR" for s in subs) and any("seats" in s for s in subs)


def test_premium_requests_are_billed_only_beyond_the_allowance(demo):
    seats = len(_seats(demo / "copilot" / "seats-2026-11-15.json"))
    used: dict[tuple, int] = {}
    for path in sorted((demo / "copilot" / "premium-requests").glob("*.json")):
        report = json.loads(path.read_text())
        month = (report["timePeriod"]["year"], report["timePeriod"]["month"])
        for item in report["usageItems"]:
            before = used.get(month, 0)
            included = max(0, min(item["grossQuantity"], seats * 300 - before))
            assert item["discountQuantity"] == included and item["netQuantity"] == item["grossQuantity"] - included
            assert item["netAmount"] == pytest.approx(item["netQuantity"] * 0.04)
            used[month] = before + included


def test_the_ledger_over_the_demo(demo):
    config = load_config(demo / "aispend.yaml")
    run_in_process(config)
    con = duckdb.connect(str(config.warehouse_path), read_only=True)
    idle = con.sql("SELECT person, days_idle FROM idle_seats ORDER BY person").fetchall()
    assert [p for p, _ in idle] == ["Diego Alvarez", "Jonas Weber", "Kenji Sato"]
    fits = dict(con.sql("SELECT person, plan_fit FROM person_monthly WHERE vendor = 'anthropic' AND seats > 0 "
                        "AND month = DATE '2026-10-01'").fetchall())
    assert {p: fits[p] for p in ("Maya Chen", "Tom Baker", "Priya Nair")} == {
        "Maya Chen": "fits", "Tom Baker": "outgrown", "Priya Nair": "underused"}
    # The developers whose coding agents' local logs the demo reads: their plan beside what the logs are worth
    agents = con.sql("""SELECT person, vendor, seats, api_equivalent_usd, plan_fit FROM person_monthly
                        WHERE person IN ('Ana Souza', 'Ben Carter', 'Chen Wei') AND month = DATE '2026-10-01'
                        ORDER BY person""").fetchall()
    logged = dict(con.sql("""SELECT user_id, sum(cost_usd) FROM usage_events WHERE x_source IN
                             ('claude_ana', 'claude_ben', 'codex_chen') AND event_time >= DATE '2026-10-01'
                             AND event_time < DATE '2026-11-01' GROUP BY 1""").fetchall())
    assert [(p, v, n) for p, v, n, _, _ in agents] == [("Ana Souza", "anthropic", 1), ("Ben Carter", "anthropic", 1),
                                                      ("Chen Wei", "openai", 1)]
    assert [value for _, _, _, value, _ in agents] == pytest.approx([logged["ana"], logged["ben"], logged["chen"]])
    assert all(fit is not None for *_, fit in agents)
    # Copilot premium requests are lines of the bill, on the organization's row of the ledger
    billed = con.sql("SELECT sum(BilledCost) FROM cost_lines WHERE x_source = 'copilot_premium_requests'").fetchone()[0]
    org = con.sql("SELECT sum(usage_cost_usd) FROM person_monthly WHERE person IS NULL AND vendor = 'github'"
                  ).fetchone()[0]
    assert org == pytest.approx(billed) and billed > 0
