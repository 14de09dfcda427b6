"""The Dagster definitions load, and the asset graph is the one the docs describe."""

from __future__ import annotations

import pytest

dg = pytest.importorskip("dagster")


def test_definitions_load_with_the_documented_graph(monkeypatch, tmp_path):
    monkeypatch.setenv("AISPEND_CONFIG", str(tmp_path / "aispend.yaml"))
    from pipelines.definitions import build_definitions

    defs = build_definitions(str(tmp_path / "aispend.yaml"))
    graph = defs.resolve_asset_graph()
    deps = {
        key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        for key in graph.get_all_asset_keys()
    }
    assert deps == {
        "prices": [],
        "tasks": [],
        "fx_rates": [],
        "cost_lines": [],
        "usage_events": ["prices"],
        "spend_daily": ["cost_lines", "fx_rates"],
        "usage_daily": ["fx_rates", "usage_events"],
        "allocated_cost": ["cost_lines", "fx_rates", "usage_daily"],
        "task_daily": ["allocated_cost", "fx_rates", "usage_events"],
        "task_roi": ["task_daily", "task_evidence", "tasks"],
        "reconciliation_logs_daily": ["fx_rates", "usage_events"],
        "reconciliation": ["cost_lines", "fx_rates", "reconciliation_logs_daily"],
        "whatif_mix_daily": ["fx_rates", "prices", "usage_events"],
        "whatif_runs_daily": ["fx_rates", "usage_events"],
        "model_whatif": ["fx_rates", "prices", "tasks", "whatif_mix_daily", "whatif_runs_daily"],
        "waste": ["cost_lines", "fx_rates", "prices", "tasks", "usage_events"],
        "anomalies": ["usage_daily"],
        "budget_status": ["allocated_cost", "person_monthly"],
        "spend_forecast": ["allocated_cost", "person_monthly"],
        "changes_after_close": ["cost_lines", "fx_rates"],
        "chargeback": ["allocated_cost", "person_monthly"],
        "month_to_date": ["allocated_cost", "usage_daily"],
        "alerts_sent": ["anomalies", "budget_status"],
        # measured time saved (docs/evidence.md)
        "work_items": ["tasks"],
        "work_item_links": ["fx_rates", "usage_events"],
        "evidence_items": ["work_item_links", "work_items"],
        "task_evidence": ["evidence_items", "task_daily", "tasks"],
        "task_evidence_weekly": ["evidence_items"],
        # people, seats and their bill
        "people": [],
        "seats": [],
        "person_activity": [],
        "person_usage_daily": ["usage_events"],
        "source_daily": ["usage_events"],
        "person_monthly": ["cost_lines", "fx_rates", "people", "person_activity", "person_usage_daily", "prices",
                           "seats"],
        "idle_seats": ["fx_rates", "people", "person_activity", "person_usage_daily", "seats"],
        # the end of every run: every mart before the checks, every step before the snapshots
        "check_results": ["allocated_cost", "anomalies", "budget_status", "changes_after_close", "chargeback",
                          "evidence_items", "idle_seats", "model_whatif", "month_to_date", "person_monthly",
                          "person_usage_daily", "reconciliation", "reconciliation_logs_daily", "source_daily",
                          "spend_daily", "spend_forecast", "task_daily", "task_evidence", "task_evidence_weekly", "task_roi", "usage_daily", "waste",
                          "whatif_mix_daily", "whatif_runs_daily", "work_item_links"],
        "snapshots": ["alerts_sent", "changes_after_close", "chargeback", "check_results", "idle_seats",
                      "model_whatif", "month_to_date", "reconciliation", "source_daily", "spend_daily",
                      "spend_forecast", "task_evidence_weekly", "task_roi", "waste"],

    }
    checks = sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys)
    assert {  # the checks the assets carry; pipelines/defs/checks.py adds more
        "cost_lines:no_quarantined_input",
        "cost_lines:unique_line_ids",
        "task_roi:accounts_for_all_usage",
        "usage_events:no_quarantined_input",
        "source_daily:price_coverage",  # the usage checks read usage_events' per-day sums
        "source_daily:token_price_coverage",
        "source_daily:fresh_within_max_age",
    } <= set(checks)
    assert defs.resolve_job_def("everything") is not None


def test_partitions_by_asset(tmp_path):
    """Usage by UTC day, invoices by billing month from the config's start_date; other marts unpartitioned;
    one job per partitioning, and a range backfill runs as one run."""
    config = tmp_path / "aispend.yaml"
    config.write_text("start_date: 2025-03-15\nsources: []\n")
    from pipelines.definitions import build_definitions

    defs = build_definitions(str(config))
    graph = defs.resolve_asset_graph()
    kinds = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        part = node.partitions_def
        kinds[key.to_user_string()] = type(part).__name__ if part else None
        if part is not None:
            assert node.backfill_policy == dg.BackfillPolicy.single_run()
    assert {k: v for k, v in kinds.items() if v} == {
        "usage_events": "DailyPartitionsDefinition", "usage_daily": "DailyPartitionsDefinition",
        "task_daily": "DailyPartitionsDefinition", "cost_lines": "MonthlyPartitionsDefinition",
        "spend_daily": "MonthlyPartitionsDefinition", "work_item_links": "DailyPartitionsDefinition",
        "whatif_mix_daily": "DailyPartitionsDefinition", "whatif_runs_daily": "DailyPartitionsDefinition",
        "waste": "DailyPartitionsDefinition", "reconciliation_logs_daily": "DailyPartitionsDefinition",
        "person_usage_daily": "DailyPartitionsDefinition", "source_daily": "DailyPartitionsDefinition",
    }
    daily = graph.get(dg.AssetKey("usage_events")).partitions_def
    monthly = graph.get(dg.AssetKey("cost_lines")).partitions_def
    assert daily.get_first_partition_key() == "2025-03-15"
    assert monthly.get_first_partition_key() == "2025-03-01"
    for job in ("everything", "cost_lines_job", "usage_events_job"):
        assert defs.resolve_job_def(job) is not None
