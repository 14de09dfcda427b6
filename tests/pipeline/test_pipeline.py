"""The whole pipeline through the real Dagster definitions, into a DuckDB file under tmp_path.

Expected values come from plain DuckDB SQL over the input files or from the hand-made spans, never from
the code under test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.support.pipeline_inputs import SPANS, make_inputs

dg = pytest.importorskip("dagster")

from pipelines.cli_run import materialize_pipeline  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def materialize(config: Path):
    """Every asset through the real Dagster definitions, stage by stage, as `aispend run` does."""
    return materialize_pipeline(config, log=lambda message: None)


def totals(config: Path) -> dict:
    con = duckdb.connect(str(config.parent / "wh" / "aispend.duckdb"), read_only=True)
    try:
        return {
            "by_provider": con.sql(
                "SELECT ProviderName, round(sum(BilledCost), 6), round(sum(EffectiveCost), 6), count(*) "
                "FROM cost_lines GROUP BY 1 ORDER BY 1"
            ).fetchall(),
            "usage": con.sql(
                "SELECT count(*), sum(request_count), sum(input_tokens), sum(cache_read_tokens), sum(output_tokens), "
                "round(sum(cost_usd), 9), count(*) FILTER (WHERE cost_usd IS NULL) FROM usage_events"
            ).fetchone(),
            "roi": con.sql("SELECT task, runs, successes, failures, round(ai_cost_usd, 9) FROM task_roi ORDER BY task").fetchall(),
            "spend_daily": con.sql("SELECT round(sum(billed_cost), 6), round(sum(effective_cost), 6) FROM spend_daily").fetchone(),
            "ingest": con.sql("SELECT status, count(*) FROM ingest_log GROUP BY 1 ORDER BY 1").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def pipeline_once(tmp_path_factory, samples_dir):
    root = tmp_path_factory.mktemp("pipeline")
    config = make_inputs(root, samples_dir)
    first = materialize(config)
    first_totals = totals(config)
    second = materialize(config)
    return config, first, first_totals, second, totals(config)


def test_materializes_and_checks_pass(pipeline_once):
    _, first, _, second, _ = pipeline_once
    assert first.success and second.success
    failed = [c.check_name for c in first.get_asset_check_evaluations() if not c.passed
              and c.severity == dg.AssetCheckSeverity.ERROR]
    assert failed == []


def test_focus_sample_totals_match_plain_sql(pipeline_once, samples_dir):
    _, _, got, _, _ = pipeline_once
    sample = str(samples_dir / "finops-focus-sample-data" / "focus_sample.csv")
    expected = duckdb.sql(
        "SELECT ProviderName, round(sum(TRY_CAST(BilledCost AS DOUBLE)), 6), round(sum(TRY_CAST(EffectiveCost AS DOUBLE)), 6), "
        "count(*) FROM read_csv(?, all_varchar=true, nullstr='NULL') GROUP BY 1 ORDER BY 1",
        params=[sample],
    ).fetchall()
    assert got["by_provider"] == expected
    billed = sum(r[1] for r in expected)
    effective = sum(r[2] for r in expected)
    assert got["spend_daily"][0] == pytest.approx(billed, abs=1e-6)
    assert got["spend_daily"][1] == pytest.approx(effective, abs=1e-6)


def test_usage_normalized_from_spans(pipeline_once):
    _, _, got, _, _ = pipeline_once
    rows, requests, uncached, cache_read, output, _cost, unpriced = got["usage"]
    assert rows == requests == len(SPANS)
    assert uncached == sum(s[4] - s[5] for s in SPANS)   # input includes cache in OTel; stored uncached
    assert cache_read == sum(s[5] for s in SPANS)
    assert output == sum(s[6] for s in SPANS)
    assert unpriced == 1                                  # claude-made-up-9 has no price: NULL, not $0


def test_task_roi_runs(pipeline_once):
    _, _, got, _, _ = pipeline_once
    roi = {r[0]: r[1:4] for r in got["roi"]}
    assert roi["summarize_ticket"] == (2, 1, 1)   # traces t1 (success) and t2 (retry, then failure)
    assert roi["draft_reply"] == (2, 2, 0)
    assert roi["unattributed"] == (1, 0, 0)


def test_rerun_changes_nothing(pipeline_once):
    _, _, first, _, second = pipeline_once
    assert first["by_provider"] == second["by_provider"]
    assert first["usage"] == second["usage"]
    assert first["roi"] == second["roi"]
    assert first["ingest"] == second["ingest"]   # unchanged files are skipped, not logged again


def test_cli_run_exit_codes_and_quarantine(tmp_path, samples_dir):
    """`aispend run` exits 0 on good input; a bad file is quarantined, exit 1, and loaded rows stay."""
    config = make_inputs(tmp_path, samples_dir)
    cli = [sys.executable, "-m", "pipelines.cli", "run", "--config", str(config)]
    ok = subprocess.run(cli, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert ok.returncode == 0, ok.stderr[-3000:]
    before = totals(config)

    bad = tmp_path / "billing" / "broken.csv"
    frame = pl.read_csv(tmp_path / "billing" / "focus_sample.csv", infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("twelve")).otherwise(pl.col("BilledCost")).alias("BilledCost")
    )
    frame.write_csv(bad)

    failed = subprocess.run(cli, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert failed.returncode == 1
    assert "broken.csv" in failed.stderr and "BilledCost" in failed.stderr
    after = totals(config)
    assert after["by_provider"] == before["by_provider"]
    con = duckdb.connect(str(config.parent / "wh" / "aispend.duckdb"), read_only=True)
    status, error = con.sql("SELECT status, error FROM ingest_log WHERE location LIKE '%broken.csv'").fetchone()
    con.close()
    assert status == "quarantined" and "row 3" in error and "BilledCost" in error
