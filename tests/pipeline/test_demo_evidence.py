"""The demo tells the evidence story through the real pipeline: every verdict appears, each on the task the demo
means it for, runs name their work items, and task_roi says which savings are measured.

The work items are drawn from their own seeded generator, after the spans (pipelines/demo/work.py), so the demo's
90 days with fewer spans give the same items and the same verdicts as `aispend demo`; fewer spans only means
some AI-assisted items are marked in their records instead of named by a run.
"""

from __future__ import annotations

import pytest

from warehouse.db import connect_reader


@pytest.fixture(scope="module")
def demo(evidence_demo):
    con = connect_reader(evidence_demo.warehouse_path)
    yield con
    con.close()


def test_every_verdict_appears_on_the_task_meant_for_it(demo):
    rows = {r[0]: r[1:] for r in demo.sql(
        "SELECT task, verdict, method, quality_flag FROM task_evidence WHERE grain = 'task'").fetchall()}
    assert {v for v, _, _ in rows.values()} == {"saves_time", "no_measurable_difference", "costs_time",
                                                "insufficient_evidence"}
    assert rows["contract_summary"] == ("saves_time", "before_after", None)        # clearly saves time
    assert rows["code_review"][0] == "no_measurable_difference"                   # looks impressive
    assert rows["sql_generation"][0] == "costs_time"                              # fixing outweighs writing
    assert rows["support_reply_draft"] == ("saves_time", "concurrent", "reopened")  # faster, reopens more
    assert rows["market_research"][0] == "insufficient_evidence"                  # too few items
    # tasks with no work records have no evidence row
    assert "internal_chat" not in rows and "slack_digest" not in rows


def test_runs_name_work_items_and_every_export_loads(demo):
    by_source = dict(demo.sql("SELECT x_source, count(*) FROM work_items GROUP BY 1").fetchall())
    assert set(by_source) == {"work", "code_review_prs", "data_jira", "support_tickets"}
    linked = demo.sql("SELECT count(*) FROM evidence_items WHERE ai_basis = 'linked_run'").fetchone()[0]
    named = demo.sql("SELECT count(DISTINCT work_item_id) FROM usage_events WHERE work_item_id IS NOT NULL"
                     ).fetchone()[0]
    assert linked > 500 and linked == named
    # every linked run's requests belong to its item's task
    assert demo.sql("""SELECT count(*) FROM usage_events u JOIN work_items w USING (work_item_id)
                       WHERE u.task <> w.task""").fetchone()[0] == 0


def test_task_roi_separates_measured_from_estimated(demo):
    basis = dict(demo.sql("SELECT task, roi_basis FROM task_roi").fetchall())
    assert basis["contract_summary"] == basis["support_reply_draft"] == basis["sql_generation"] == "measured"
    assert basis["market_research"] == basis["internal_chat"] == "catalog_estimate"
    # pull requests are measured on turnaround, not people's time: a verdict, but the ROI stays an estimate
    assert basis["code_review"] == "catalog_estimate"
    low, mid, high = demo.sql("SELECT measured_net_savings_low_usd, measured_net_savings_usd, "
                              "measured_net_savings_high_usd FROM task_roi WHERE task = 'sql_generation'").fetchone()
    assert low < mid < high < 0  # costs time: measured money lost, whatever end of the interval
    # every catalog task that ran has one (the coding agents' `coding_agent` is in no catalog: no hourly rate)
    assert demo.sql("SELECT count(*) FROM task_roi WHERE runs > 0 AND break_even_minutes IS NULL "
                    "AND task IN (SELECT task FROM tasks)").fetchone()[0] == 0
    assert demo.sql("SELECT count(*) FROM task_roi WHERE runs > 0 AND task NOT IN (SELECT task FROM tasks)"
                    ).fetchall() == [(2,)]  # unattributed and coding_agent
