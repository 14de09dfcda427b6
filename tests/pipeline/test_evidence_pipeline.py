"""The whole pipeline over work records and the requests that name them: task_evidence against plain SQL over the
files themselves (which items are AI-assisted, their means) and scipy on the raw minutes; a re-run changes
nothing; task_roi says which tasks are measured."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import duckdb
import pytest
from scipy import stats

from pipelines.config import load_config
from pipelines.plan import run_in_process
from warehouse.db import connect_reader

FIXTURES = Path(__file__).parents[1] / "fixtures" / "work"


def _project(root: Path) -> Path:
    (root / "work").mkdir()
    (root / "usage").mkdir()
    (root / "tasks.yaml").write_text(textwrap.dedent("""
        tasks:
          - {task: triage, human_minutes: 12, hourly_rate_usd: 50, review_minutes: 1}
          - {task: code_change, human_minutes: 60, hourly_rate_usd: 90}
          - {task: docs_change, human_minutes: 30, hourly_rate_usd: 90}
          - {task: idle, human_minutes: 5, hourly_rate_usd: 40}
    """))
    rng = random.Random(12)
    items = ["work_item_id,task,opened_at,closed_at,handling_minutes,ai_assisted,team,reopened"]
    usage = ["timestamp,provider,model,input_tokens,output_tokens,task,team,run_id,outcome,work_item_id"]
    for i in range(80):
        day = 1 + i % 28
        linked = i % 2 == 0           # half the items are named by a request (AI-assisted by a linked run)
        marked = i % 10 == 5          # a few say ai_assisted=yes in the record
        minutes = rng.gauss(14 if (linked or marked) else 20, 4)
        items.append(f"T-{i},triage,2026-10-{day:02d}T08:00:00Z,2026-10-{day:02d}T16:00:00Z,{minutes:.2f},"
                     f"{'yes' if marked else ''},{'support' if i % 4 else 'ops'},{'true' if i % 7 == 0 else 'false'}")
        if linked:
            usage.append(f"2026-10-{day:02d}T09:00:00Z,openai,gpt-4o-mini,2000,300,triage,support,run-{i},success,T-{i}")
    (root / "work" / "items.csv").write_text("\n".join(items) + "\n")
    (root / "usage" / "requests.csv").write_text("\n".join(usage) + "\n")
    (root / "prs.json").write_bytes((FIXTURES / "github_prs.json").read_bytes())
    (root / "aispend.yaml").write_text(textwrap.dedent("""
        warehouse: wh/aispend.duckdb
        start_date: 2026-10-01
        task_catalog: tasks.yaml
        evidence: {min_items: 10}
        sources:
          - {name: work, kind: work_items, path: "work/*.csv"}
          - {name: prs, kind: github_prs, path: prs.json,
             options: {task: code_change, task_label_prefix: "task:", ai_label: ai-assisted, id_prefix: "web#"}}
          - {name: requests, kind: usage_csv, path: "usage/*.csv"}
    """))
    return root / "aispend.yaml"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("evidence")
    config = load_config(_project(root))
    results = run_in_process(config)
    assert not [r for r in results if r.status == "quarantined"]
    return root, config


def _sides(root: Path) -> tuple[list[float], list[float]]:
    """AI-assisted and baseline minutes straight from the files: ai_assisted yes, or named by a request."""
    rows = duckdb.sql(f"""
        SELECT coalesce(i.ai_assisted = 'yes', u.work_item_id IS NOT NULL) AS ai, i.handling_minutes AS m
        FROM read_csv('{root}/work/items.csv', all_varchar=true) i
        LEFT JOIN (SELECT DISTINCT work_item_id FROM read_csv('{root}/usage/requests.csv', all_varchar=true)) u
          USING (work_item_id)
    """).fetchall()
    return [float(m) for ai, m in rows if ai], [float(m) for ai, m in rows if not ai]


def test_task_evidence_matches_sql_and_scipy_on_the_raw_minutes(project):
    root, config = project
    ai, baseline = _sides(root)
    con = connect_reader(config.warehouse_path)
    row = con.sql("SELECT * FROM task_evidence WHERE task = 'triage' AND team IS NULL").pl().row(0, named=True)
    assert (row["items_ai"], row["items_baseline"]) == (len(ai), len(baseline)) == (48, 32)
    assert row["items_linked"] == 40  # the 40 named by a request; the 8 marked in the record count as record
    assert row["mean_minutes_ai"] == pytest.approx(sum(ai) / len(ai))
    assert row["minutes_saved"] == pytest.approx(sum(baseline) / len(baseline) - sum(ai) / len(ai))
    interval = stats.ttest_ind(baseline, ai, equal_var=False).confidence_interval(0.95)
    assert (row["minutes_saved_low"], row["minutes_saved_high"]) == pytest.approx((interval.low, interval.high))
    assert (row["verdict"], row["method"]) == ("saves_time", "concurrent")
    # the two teams' rows split the same items
    teams = con.sql("SELECT sum(items_ai + items_baseline) FROM task_evidence WHERE task = 'triage' "
                    "AND grain = 'task_team'").fetchone()[0]
    assert teams == 80
    # the PRs: elapsed minutes, too few merged ones for a verdict
    prs = con.sql("SELECT minutes_basis, items_ai + items_baseline, verdict FROM task_evidence "
                  "WHERE task = 'code_change' AND team IS NULL").fetchone()
    assert prs == ("elapsed", 1, "insufficient_evidence")
    roi = dict(con.sql("SELECT task, roi_basis FROM task_roi").fetchall())
    assert roi == {"triage": "measured", "code_change": "catalog_estimate", "docs_change": "catalog_estimate",
                   "idle": "catalog_estimate"}
    measured = con.sql("SELECT measured_minutes_saved FROM task_roi WHERE task = 'triage'").fetchone()[0]
    assert measured == pytest.approx(row["minutes_saved"])
    weekly = con.sql("SELECT sum(items_ai), sum(items_baseline) FROM task_evidence_weekly "
                     "WHERE task = 'triage' AND grain = 'task'").fetchone()
    assert weekly == (48, 32)
    con.close()


def test_a_rerun_changes_nothing(project):
    root, config = project
    con = connect_reader(config.warehouse_path)
    before = con.sql("SELECT * FROM task_evidence ORDER BY ALL").fetchall()
    links = con.sql("SELECT count(*), sum(requests) FROM work_item_links").fetchone()
    con.close()
    results = run_in_process(config)
    assert {r.status for r in results if r.source in ("work", "prs")} == {"unchanged"}
    con = connect_reader(config.warehouse_path)
    assert con.sql("SELECT * FROM task_evidence ORDER BY ALL").fetchall() == before
    assert con.sql("SELECT count(*), sum(requests) FROM work_item_links").fetchone() == links == (40, 40)
    assert con.sql("SELECT count(*) FROM work_items").fetchone() == (84,)
    con.close()
