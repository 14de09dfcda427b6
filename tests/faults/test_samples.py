"""Every real sample in ../shared/samples, each through the kind its docs name, in one `aispend run`: exit 0,
and each source's totals equal plain SQL over its own file.

The Azure EA exports are Microsoft's own: an actual-cost export carries no effective cost and an amortized one no
billed cost, so the run must neither fail the null-cost check on them nor print the missing cost as $0.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]

# source name -> (sample file, kind, options, cost column in the file, which warehouse cost it becomes)
SAMPLES = {
    "focus_sample": ("finops-focus-sample-data/focus_sample.csv", "focus", {}, "BilledCost", "both"),
    "spec_purchase": ("focus-spec/commitment_discount_purchase_scenario_1.csv", "focus",
                      {"billing_currency": "USD", "provider_name": "Example"}, "BilledCost", "both"),
    "spec_usage": ("focus-spec/commitment_discount_usage_scenario_3.csv", "focus",
                   {"billing_currency": "USD", "provider_name": "Example"}, "BilledCost", "both"),
    "legacy_cur": ("focus-converters/sample-anonymous-aws-export-dataset.csv", "aws_cur", {},
                   '"lineItem/UnblendedCost"', "both"),
    "ea_anonymous": ("focus-converters/sample-anonymous-ea-export-dataset.csv", "azure_ea", {"cost_view": "actual"},
                     "CostInBillingCurrency", "BilledCost"),
    "ea_actual": ("microsoft-finops-toolkit/EA_ActualCost_Small.csv", "azure_ea", {}, "Cost", "BilledCost"),
    "ea_amortized": ("microsoft-finops-toolkit/EA_AmortizedCost_Small.csv", "azure_ea", {}, "Cost",
                     "EffectiveCost"),
}


def _place(root: Path, name: str, sample: Path, kind: str) -> Path:
    """The sample where its kind reads it: a folder of its own, or (CUR) a legacy delivery with its manifest."""
    folder = root / name
    if kind != "aws_cur":
        folder.mkdir(parents=True)
        shutil.copy(sample, folder / sample.name)
        return folder
    period = folder / "report" / "20231101-20231201"
    (period / "asm").mkdir(parents=True)
    (period / "asm" / "report-1.csv.gz").write_bytes(gzip.compress(sample.read_bytes()))
    (period / "report-Manifest.json").write_text(json.dumps({
        "assemblyId": "asm", "bucket": "b", "billingPeriod": {"start": "20231101T000000.000Z"},
        "reportKeys": ["cur/report/20231101-20231201/asm/report-1.csv.gz"]}))
    return folder


@pytest.fixture(scope="module")
def samples_run(tmp_path_factory, samples_dir):
    root = tmp_path_factory.mktemp("samples")
    sources = []
    for name, (file, kind, options, _, _) in SAMPLES.items():
        folder = _place(root, name, samples_dir / file, kind)
        sources.append({"name": name, "kind": kind, "path": str(folder), "options": options})
    config = root / "aispend.yaml"
    config.write_text(json.dumps({"warehouse": "wh/aispend.duckdb", "start_date": "2023-01-01", "sources": sources}))
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--config", str(config)],
                          capture_output=True, text=True, cwd=REPO, timeout=900)
    return root, done


def test_every_sample_loads_with_exit_0(samples_run):
    root, done = samples_run
    assert done.returncode == 0, done.stderr[-4000:]
    con = duckdb.connect(str(root / "wh" / "aispend.duckdb"), read_only=True)
    try:
        statuses = dict(con.sql("SELECT source, string_agg(DISTINCT status, ',') FROM ingest_log GROUP BY 1").fetchall())
        failed = con.sql("SELECT check_name, asset, description FROM check_results WHERE NOT passed AND "
                         "severity = 'error'").fetchall()
    finally:
        con.close()
    # every sample, and the exchange rates that convert the non-USD ones (the run's own fx_rates step)
    assert statuses == {**{name: "loaded" for name in SAMPLES}, "fx_rates": "loaded"}
    assert failed == []


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_totals_equal_plain_sql_over_the_file(samples_run, samples_dir, name):
    root, _ = samples_run
    file, _, _, column, becomes = SAMPLES[name]
    expected_n, expected = duckdb.sql(
        f"SELECT count(*), sum(TRY_CAST({column} AS DOUBLE)) FROM read_csv(?, all_varchar=true)",
        params=[str(samples_dir / file)]).fetchone()
    con = duckdb.connect(str(root / "wh" / "aispend.duckdb"), read_only=True)
    try:
        n, billed, effective, billed_null, effective_null = con.sql(
            "SELECT count(*), sum(BilledCost), sum(EffectiveCost), count(*) FILTER (WHERE BilledCost IS NULL), "
            "count(*) FILTER (WHERE EffectiveCost IS NULL) FROM cost_lines WHERE x_source = ?", params=[name]).fetchone()
    finally:
        con.close()
    assert n == expected_n
    if becomes in ("both", "BilledCost"):
        assert billed == pytest.approx(expected, abs=1e-6)
    if becomes == "BilledCost":    # an actual-cost export: the effective cost is unknown, not 0
        assert effective is None and effective_null == n
    if becomes == "EffectiveCost":
        assert effective == pytest.approx(expected, abs=1e-6) and billed is None and billed_null == n


def test_the_summary_says_which_cost_is_unknown(samples_run):
    root, done = samples_run
    summary = next(line for line in done.stderr.splitlines() if "cost_lines:" in line and "lines" in line)
    # The EA actual export has no effective cost, the amortized one no billed cost: counted over every line,
    # in any currency (the samples hold two), by plain SQL over the warehouse.
    con = duckdb.connect(str(root / "wh" / "aispend.duckdb"), read_only=True)
    try:
        lines, no_billed, no_effective = con.sql(
            "SELECT count(*), count(*) FILTER (WHERE BilledCost IS NULL), "
            "count(*) FILTER (WHERE EffectiveCost IS NULL) FROM cost_lines").fetchone()
    finally:
        con.close()
    assert no_billed >= 28 and no_effective >= 11
    assert f"({no_billed:,} of {lines:,} lines have no billed cost: unknown, not $0" in summary
    assert f"({no_effective:,} of {lines:,} lines have no effective cost: unknown, not $0" in summary
