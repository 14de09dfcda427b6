"""aws_cur: CUR 2.0 and legacy deliveries through the real ingest, on a moto S3 endpoint and local folders.

Expected figures come from plain DuckDB SQL over the very files a manifest lists, or are computed by hand here.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.config import AispendConfig, SourceConfig
from pipelines.sources import aws_usage_types as ut
from pipelines.loads import load_table
from warehouse.db import connect_writer, query

BUCKET = "billing"
PREFIX = "cur/acme"  # s3://billing/cur/acme/<export>/...
EXPORT = "ai-cur"
MAP = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
T = pl.Datetime("us", "UTC")
SCHEMA = {
    "bill_billing_period_start_date": T,
    "bill_billing_period_end_date": T,
    "bill_payer_account_id": pl.String,
    "bill_invoice_id": pl.String,
    "identity_line_item_id": pl.String,
    "line_item_line_item_type": pl.String,
    "line_item_product_code": pl.String,
    "line_item_usage_type": pl.String,
    "line_item_operation": pl.String,
    "line_item_resource_id": pl.String,
    "line_item_usage_account_id": pl.String,
    "line_item_usage_start_date": T,
    "line_item_usage_end_date": T,
    "line_item_usage_amount": pl.Float64,
    "line_item_unblended_cost": pl.Float64,
    "line_item_currency_code": pl.String,
    "pricing_unit": pl.String,
    "pricing_public_on_demand_cost": pl.Float64,
    "savings_plan_savings_plan_effective_cost": pl.Float64,
    "savings_plan_total_commitment_to_date": pl.Float64,
    "savings_plan_used_commitment": pl.Float64,
    "reservation_effective_cost": pl.Float64,
    "product": MAP,
    "resource_tags": MAP,
}


def line(n: int, period: str, line_type: str, code: str, usage_type: str, cost: float, *, amount: float = 1.0,
         unit: str = "Hrs", product_name: str | None = None, region: str = "us-east-1", operation: str = "Run",
         tags: dict | None = None, currency: str = "USD", **extra) -> dict:
    start = datetime.strptime(period + "-01", "%Y-%m-%d").replace(tzinfo=timezone.utc)
    end = start.replace(month=start.month % 12 + 1, year=start.year + (start.month == 12))
    day = start.replace(day=1 + n % 27, hour=n % 24)
    product = [{"key": "region", "value": region}]
    if product_name:
        product.append({"key": "product_name", "value": product_name})
    return {
        "bill_billing_period_start_date": start, "bill_billing_period_end_date": end,
        "bill_payer_account_id": "111122223333", "bill_invoice_id": None,
        "identity_line_item_id": f"id{n:04d}", "line_item_line_item_type": line_type,
        "line_item_product_code": code, "line_item_usage_type": usage_type, "line_item_operation": operation,
        "line_item_resource_id": None, "line_item_usage_account_id": "444455556666",
        "line_item_usage_start_date": day, "line_item_usage_end_date": day.replace(minute=59),
        "line_item_usage_amount": amount, "line_item_unblended_cost": cost, "line_item_currency_code": currency,
        "pricing_unit": unit, "pricing_public_on_demand_cost": cost if line_type == "Usage" else None,
        "savings_plan_savings_plan_effective_cost": None, "savings_plan_total_commitment_to_date": None,
        "savings_plan_used_commitment": None, "reservation_effective_cost": None,
        "product": product, "resource_tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
        **extra,
    }


def october_first() -> list[dict]:
    """The first delivery of 2026-10: Bedrock tokens in every naming form, a Savings Plan set, credit,
    refund, tax, a GPU instance, SageMaker, and a split-cost row that must not count."""
    p, br = "2026-10", "Amazon Bedrock"
    return [
        line(1, p, "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", 7.5, amount=2.5, unit="1M tokens",
             product_name=br, tags={"user_team": "search"}),
        line(2, p, "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-output-tokens", 4.5, amount=300, unit="1K tokens",
             product_name=br),
        line(3, p, "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-cache-read-input-token-count", 0.3, amount=1.0,
             unit="1M tokens", product_name=br),
        line(4, p, "Usage", "AmazonBedrockService",
             "USE1-Claude4.6Sonnet-cache-write-input-token-count-cross-region-global", 1.875, amount=0.5,
             unit="1M tokens", product_name=br),
        line(5, p, "Usage", "c8fvx5hhglmarketplace", "USW2-MP:USW2_InputTokenCount-Units", 0.25, amount=1000,
             unit="Units", product_name="Claude 3 Haiku (Amazon Bedrock Edition)", region="us-west-2"),
        line(6, p, "Usage", "AmazonBedrock", "USE1-Nova2.0Lite-input-tokens", 0.06, amount=200, unit="1K tokens",
             product_name=br),
        line(7, p, "Usage", "AmazonBedrock", "USE1-ProvisionedThroughput-ModelUnits", 20.0, amount=1,
             product_name=br),
        line(8, p, "Usage", "AmazonBedrock", "USE1-Guardrail-TextUnits", 0.1, amount=100, unit="Units",
             product_name=br),
        line(9, p, "Usage", "AmazonEC2", "BoxUsage:p5.48xlarge", 98.32, amount=1, product_name="Amazon Elastic Compute Cloud"),
        line(10, p, "Usage", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 1.41, amount=1, product_name="Amazon SageMaker"),
        line(11, p, "Usage", "AmazonEC2", "USE1-EKS-EC2-vCPU-Hours", 3.0, operation="EKSPod-EC2",
             product_name="Amazon Elastic Compute Cloud"),
        line(12, p, "SavingsPlanCoveredUsage", "AmazonEC2", "BoxUsage:m5.large", 10.0, amount=100,
             product_name="Amazon Elastic Compute Cloud", savings_plan_savings_plan_effective_cost=6.0),
        line(13, p, "SavingsPlanNegation", "AmazonEC2", "BoxUsage:m5.large", -10.0, amount=100,
             product_name="Amazon Elastic Compute Cloud"),
        line(14, p, "SavingsPlanRecurringFee", "ComputeSavingsPlans", "ComputeSP:1yrNoUpfront", 100.0,
             savings_plan_total_commitment_to_date=100.0, savings_plan_used_commitment=70.0),
        line(15, p, "Credit", "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", -5.0, amount=0,
             product_name=br),
        line(16, p, "Refund", "AmazonEC2", "BoxUsage:p5.48xlarge", -2.0, amount=0,
             product_name="Amazon Elastic Compute Cloud"),
        line(17, p, "Tax", "AmazonBedrock", "", 1.2, amount=0, product_name=br),
    ]


def october_second() -> tuple[list[dict], list[dict]]:
    """The restated 2026-10: different lines, split over a Parquet and a CSV.gz file."""
    p, br = "2026-10", "Amazon Bedrock"
    return (
        [line(1, p, "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", 9.0, amount=3.0, unit="1M tokens",
              product_name=br),
         line(9, p, "Usage", "AmazonEC2", "BoxUsage:p5.48xlarge", 196.64, amount=2, product_name="Amazon EC2")],
        [line(21, p, "Usage", "AmazonS3", "TimedStorage-ByteHrs", 0.5, amount=20, unit="GB-Mo", product_name="Amazon S3"),
         line(22, p, "Tax", "AmazonS3", "", 0.05, amount=0, product_name="Amazon S3")],
    )


def september() -> list[dict]:
    p = "2026-09"
    return [line(30 + i, p, "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-output-tokens", 1.5 * (i + 1),
                 amount=100 * (i + 1), unit="1K tokens", product_name="Amazon Bedrock") for i in range(3)]


def parquet_bytes(rows: list[dict], path: Path) -> bytes:
    pl.DataFrame(rows, schema=SCHEMA).write_parquet(path)
    return path.read_bytes()


def csv_gz_bytes(rows: list[dict], path: Path) -> bytes:
    """CUR 2.0 CSV: snake_case headers, ISO times, maps as JSON objects."""
    frame = pl.DataFrame(rows, schema=SCHEMA)
    as_text = frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ") for c, t in SCHEMA.items() if t == T]
        + [pl.Series(c, [json.dumps({kv["key"]: kv["value"] for kv in r[c]}) for r in rows]) for c in ("product", "resource_tags")]
    )
    as_text.write_csv(path)
    data = gzip.compress(path.read_bytes())
    path.with_suffix(".csv.gz").write_bytes(data)
    return data


def manifest(period: str, keys: list[str]) -> bytes:
    return json.dumps({
        "version": "1.0", "exportName": EXPORT, "billingPeriod": period,
        "dataFiles": [f"s3://{BUCKET}/{k}" for k in keys],
        "columns": [{"name": c, "type": "string"} for c in SCHEMA],
    }).encode()


def data_key(period: str, name: str, execution: str = "exec1") -> str:
    return f"{PREFIX}/{EXPORT}/data/BILLING_PERIOD={period}/{execution}/{name}"


def manifest_key(period: str) -> str:
    return f"{PREFIX}/{EXPORT}/metadata/BILLING_PERIOD={period}/{EXPORT}-Manifest.json"


def cur_config(tmp_path: Path, path: str, endpoint_url: str | None = None) -> AispendConfig:
    source = SourceConfig(name="aws", kind="aws_cur", path=path, endpoint_url=endpoint_url, region="us-east-1")
    return AispendConfig(warehouse=str(tmp_path / "wh" / "aispend.duckdb"), sources=[source], base_dir=str(tmp_path))


def period_totals(con) -> dict[str, tuple[int, float, float]]:
    rows = query(con, """SELECT strftime(BillingPeriodStart, '%Y-%m') AS p, count(*) AS n, sum(BilledCost) AS b,
                         sum(EffectiveCost) AS e FROM cost_lines GROUP BY 1""").rows()
    return {p: (n, b, e) for p, n, b, e in rows}


def sql_totals(files: list[Path]) -> tuple[int, float]:
    """Count and unblended total over data files, leaving out split-cost rows: plain DuckDB, not our reader."""
    parts = []
    for f in files:
        reader = "read_parquet" if f.suffix == ".parquet" else "read_csv"
        parts.append(f"SELECT line_item_operation AS op, line_item_unblended_cost::DOUBLE AS c FROM {reader}('{f}')")
    n, total = duckdb.sql(f"SELECT count(*), sum(c) FROM ({' UNION ALL '.join(parts)}) "
                          "WHERE op NOT IN ('EKSPod-EC2', 'ECSTask-EC2')").fetchone()
    return n, total


def statuses(results) -> dict[str, str]:
    return {r.location.split("BILLING_PERIOD=")[-1][:7]: r.status for r in results}


# ---------------------------------------------------------------------------------------------------------


def test_s3_restatement_replaces_the_period_and_reruns_change_nothing(tmp_path, s3):
    local = tmp_path / "files"
    local.mkdir()
    sep = csv_gz_bytes(september(), local / "sep.csv")
    oct1 = parquet_bytes(october_first(), local / "oct1.parquet")
    s3.put(BUCKET, data_key("2026-09", "ai-cur-00001.csv.gz"), sep)
    s3.put(BUCKET, manifest_key("2026-09"), manifest("2026-09", [data_key("2026-09", "ai-cur-00001.csv.gz")]))
    s3.put(BUCKET, data_key("2026-10", "ai-cur-00001.snappy.parquet"), oct1)
    s3.put(BUCKET, manifest_key("2026-10"), manifest("2026-10", [data_key("2026-10", "ai-cur-00001.snappy.parquet")]))

    config = cur_config(tmp_path, f"s3://{BUCKET}/{PREFIX}", s3.endpoint_url)
    con = connect_writer(config.warehouse_path)
    first = load_table(con, config, "cost_lines")
    assert statuses(first) == {"2026-09": "loaded", "2026-10": "loaded"}
    got = period_totals(con)
    for period, files in {"2026-09": [local / "sep.csv.gz"], "2026-10": [local / "oct1.parquet"]}.items():
        n, billed = sql_totals(files)
        assert got[period][0] == n and got[period][1] == pytest.approx(billed)
    assert got["2026-10"][0] == 16  # 17 lines, the EKSPod-EC2 split row dropped

    # The restated month: new files in a new execution folder; the old file stays in the bucket.
    new_parquet, new_csv = october_second()
    oct2a = parquet_bytes(new_parquet, local / "oct2a.parquet")
    oct2b = csv_gz_bytes(new_csv, local / "oct2b.csv")
    keys = [data_key("2026-10", "ai-cur-00001.snappy.parquet", "exec2"), data_key("2026-10", "ai-cur-00002.csv.gz", "exec2")]
    s3.put(BUCKET, keys[0], oct2a)
    s3.put(BUCKET, keys[1], oct2b)
    s3.put(BUCKET, manifest_key("2026-10"), manifest("2026-10", keys))
    second = load_table(con, config, "cost_lines")
    assert statuses(second) == {"2026-09": "unchanged", "2026-10": "replaced"}
    got = period_totals(con)
    n, billed = sql_totals([local / "oct2a.parquet", local / "oct2b.csv.gz"])
    assert got["2026-10"][0] == n == 4 and got["2026-10"][1] == pytest.approx(billed) == pytest.approx(206.19)
    assert got["2026-09"][1] == pytest.approx(sql_totals([local / "sep.csv.gz"])[1])

    third = load_table(con, config, "cost_lines")
    assert {r.status for r in third} == {"unchanged"}
    assert period_totals(con) == got
    log = query(con, "SELECT status, count(*) AS n FROM ingest_log GROUP BY 1 ORDER BY 1").rows()
    assert log == [("loaded", 2), ("replaced", 1)]


@pytest.fixture
def october_loaded(tmp_path):
    """A local copy of the bucket with 2026-10 (first delivery) loaded into a tmp warehouse."""
    root = tmp_path / "bucket"
    key = data_key("2026-10", "ai-cur-00001.snappy.parquet")
    (root / key).parent.mkdir(parents=True)
    parquet_bytes(october_first(), root / key)
    (root / manifest_key("2026-10")).parent.mkdir(parents=True)
    (root / manifest_key("2026-10")).write_bytes(manifest("2026-10", [key]))
    config = cur_config(tmp_path, str(root / PREFIX))
    con = connect_writer(config.warehouse_path)
    assert statuses(load_table(con, config, "cost_lines")) == {"2026-10": "loaded"}
    return root, config, con


def test_ai_lines_models_token_types_and_quantities(october_loaded):
    _, _, con = october_loaded
    rows = {r["x_line_id"].split("|")[0]: r for r in query(con, "SELECT * FROM cost_lines").to_dicts()}
    expect = {  # id: (x_model, x_token_type, ConsumedQuantity, x_ai_category)
        "id0001": ("regional.anthropic.claude-sonnet-4-6-v1:0", "input", 2_500_000, "model_usage"),
        "id0002": ("regional.anthropic.claude-sonnet-4-6-v1:0", "output", 300_000, "model_usage"),
        "id0003": ("regional.anthropic.claude-sonnet-4-6-v1:0", "cache_read", 1_000_000, "model_usage"),
        "id0004": ("global.anthropic.claude-sonnet-4-6-v1:0", "cache_write", 500_000, "model_usage"),
        "id0005": ("regional.anthropic.claude-3-haiku-20240307-v1:0", "input", 1000, "model_usage"),
        "id0006": ("regional.amazon.nova-2-lite-v1:0", "input", 200_000, "model_usage"),
        "id0007": (None, None, 1, "provisioned_throughput"),
        "id0008": (None, None, 100, "ai_service"),
        "id0009": (None, None, 1, "ai_compute"),
        "id0010": (None, None, 1, "ai_compute"),
        "id0012": (None, None, 100, None),
    }
    for line_id, (model, token, quantity, category) in expect.items():
        r = rows[line_id]
        assert (r["x_model"], r["x_token_type"], r["ConsumedQuantity"], r["x_ai_category"]) == \
            (model, token, quantity, category), line_id
        assert r["x_is_ai"] is (category is not None)
    assert "id0011" not in rows  # split-cost allocation row
    assert rows["id0001"]["ServiceCategory"] == rows["id0010"]["ServiceCategory"] == "AI and Machine Learning"
    assert rows["id0009"]["ServiceCategory"] == "Compute" and rows["id0009"]["x_is_ai"] is True
    assert rows["id0001"]["ConsumedUnit"] == "Tokens" and rows["id0001"]["RegionId"] == "us-east-1"
    assert rows["id0005"]["RegionId"] == "us-west-2"
    assert json.loads(rows["id0001"]["Tags"]) == {"user_team": "search"}
    assert rows["id0001"]["SkuId"] == "USE1-Claude4.6Sonnet-input-tokens"
    assert (rows["id0001"]["SubAccountId"], rows["id0001"]["BillingAccountId"]) == ("444455556666", "111122223333")
    assert rows["id0001"]["BillingPeriodStart"] == datetime(2026, 10, 1)


def test_savings_plan_credit_refund_tax_mapping(october_loaded):
    _, _, con = october_loaded
    rows = {r["x_line_id"].split("|")[0]: r for r in query(con, "SELECT * FROM cost_lines").to_dicts()}
    # id: (ChargeCategory, BilledCost, EffectiveCost), computed by hand from the lines above
    expect = {
        "id0012": ("Usage", 10.0, 6.0),       # covered usage: the Savings Plan's effective cost
        "id0013": ("Usage", -10.0, 0.0),      # negation: cash offset, nothing amortized
        "id0014": ("Purchase", 100.0, 30.0),  # recurring fee: commitment to date 100 - used 70 (unused part)
        "id0015": ("Credit", -5.0, -5.0),
        "id0016": ("Credit", -2.0, -2.0),     # refund: money back, FOCUS Credit
        "id0017": ("Tax", 1.2, 1.2),
    }
    for line_id, (category, billed, effective) in expect.items():
        r = rows[line_id]
        assert (r["ChargeCategory"], r["BilledCost"], r["EffectiveCost"]) == (category, billed, effective), line_id
    assert rows["id0012"]["CommitmentDiscountStatus"] == "Used"
    # Billed total: every kept line's cash; effective replaces the SP set (10 - 10 + 100) by (6 + 0 + 30).
    billed, effective = query(con, "SELECT sum(BilledCost), sum(EffectiveCost) FROM cost_lines").row(0)
    cash = 7.5 + 4.5 + 0.3 + 1.875 + 0.25 + 0.06 + 20 + 0.1 + 98.32 + 1.41 + 10 - 10 + 100 - 5 - 2 + 1.2
    assert billed == pytest.approx(cash)
    assert effective == pytest.approx(cash - 100 + 36)


def _bad_parquet(rows):
    return pl.DataFrame(rows, schema=SCHEMA).drop("line_item_unblended_cost")


@pytest.mark.parametrize("case", ["truncated_csv_gz", "parquet_missing_column", "text_cost", "missing_file"])
def test_bad_delivery_is_quarantined_and_the_period_keeps_its_rows(october_loaded, case):
    root, config, con = october_loaded
    before = period_totals(con)
    rows = october_second()[1]
    key = data_key("2026-10", "ai-cur-00001.csv.gz", "exec2")
    path = root / key
    path.parent.mkdir(parents=True)
    if case == "truncated_csv_gz":
        data = csv_gz_bytes(rows, root / "x.csv")
        path.write_bytes(data[: len(data) // 2])
        reason = "unreadable gzip"
    elif case == "parquet_missing_column":
        key = key.replace(".csv.gz", ".snappy.parquet")
        path = root / key
        _bad_parquet(rows).write_parquet(path)
        reason = "missing required CUR column(s): line_item_unblended_cost"
    elif case == "text_cost":
        csv_gz_bytes(rows, root / "x.csv")
        text = (root / "x.csv").read_text().replace(",0.5,USD,", ",0.5O,USD,")  # letter O, not zero
        assert "0.5O" in text
        path.write_bytes(gzip.compress(text.encode()))
        reason = "column 'line_item_unblended_cost': not a number: '0.5O'"
    else:
        reason = f"the manifest lists a data file that is not there: s3://{BUCKET}/{key}"
    (root / manifest_key("2026-10")).write_bytes(manifest("2026-10", [key]))

    results = load_table(con, config, "cost_lines")
    assert [r.status for r in results] == ["quarantined"]
    error = query(con, "SELECT error FROM ingest_log WHERE status = 'quarantined'")["error"][0]
    assert reason in error
    assert (key.rsplit("/", 1)[-1] in error) or case == "missing_file"
    if case == "missing_file":
        assert error.startswith(str(root / manifest_key("2026-10")))
    assert period_totals(con) == before


def test_only_the_newest_manifest_of_a_period_counts(tmp_path):
    """Two manifests for one period (execution folders): the one written last wins; older files are ignored."""
    root = tmp_path / "bucket"
    old_key, new_key = data_key("2026-10", "old.csv.gz", "e1"), data_key("2026-10", "new.csv.gz", "e2")
    for key, rows, execution in [(old_key, october_second()[0], "e1"), (new_key, october_second()[1], "e2")]:
        (root / key).parent.mkdir(parents=True)
        (root / key).write_bytes(csv_gz_bytes(rows, tmp_path / f"{execution}.csv"))
        m = root / f"{PREFIX}/{EXPORT}/metadata/BILLING_PERIOD=2026-10/{execution}/{EXPORT}-Manifest.json"
        m.parent.mkdir(parents=True)
        m.write_bytes(manifest("2026-10", [key]))
        stamp = time.time() - (100 if execution == "e1" else 0)
        os.utime(m, (stamp, stamp))
    config = cur_config(tmp_path, str(root / PREFIX))
    con = connect_writer(config.warehouse_path)
    results = load_table(con, config, "cost_lines")
    assert len(results) == 1 and "/e2/" in results[0].location
    assert period_totals(con)["2026-10"][1] == pytest.approx(0.55)


def test_two_exports_under_one_source_are_refused(tmp_path):
    root = tmp_path / "bucket"
    for export in ("one", "two"):
        m = root / f"{export}/metadata/BILLING_PERIOD=2026-10/{export}-Manifest.json"
        m.parent.mkdir(parents=True)
        m.write_bytes(b'{"dataFiles": []}')
    config = cur_config(tmp_path, str(root))
    con = connect_writer(config.warehouse_path)
    results = load_table(con, config, "cost_lines")
    assert [r.status for r in results] == ["quarantined"] and "more than one export" in results[0].error


def test_legacy_sample_totals_per_line_item_type_match_duckdb(tmp_path, samples_dir):
    sample = samples_dir / "focus-converters" / "sample-anonymous-aws-export-dataset.csv"
    raw = sample.read_bytes()
    root = tmp_path / "legacy"
    period = root / "reports" / "acme-cur" / "20231101-20231201"
    current, stale = "7d1c0e5a-current", "3b2a9f11-stale"
    for assembly, body in [(current, raw), (stale, raw[: len(raw) // 3].rsplit(b"\n", 1)[0] + b"\n")]:
        (period / assembly).mkdir(parents=True)
        (period / assembly / "acme-cur-1.csv.gz").write_bytes(gzip.compress(body))
        (period / assembly / "acme-cur-Manifest.json").write_text(json.dumps({
            "assemblyId": assembly, "bucket": "old-bucket", "billingPeriod": {"start": "20231101T000000.000Z"},
            "reportKeys": [f"reports/acme-cur/20231101-20231201/{assembly}/acme-cur-1.csv.gz"]}))
    (period / "acme-cur-Manifest.json").write_text(json.dumps({  # top level: names the current assembly
        "assemblyId": current, "bucket": "old-bucket", "billingPeriod": {"start": "20231101T000000.000Z"},
        "reportKeys": [f"reports/acme-cur/20231101-20231201/{current}/acme-cur-1.csv.gz"]}))
    config = cur_config(tmp_path, str(root / "reports"))
    con = connect_writer(config.warehouse_path)
    results = load_table(con, config, "cost_lines")
    assert [(r.status, r.rows) for r in results] == [("loaded", 1281)]
    # a unit is named by where it sits below the source's path: the same file wherever the project lives
    assert results[0].location == "acme-cur/20231101-20231201/acme-cur-Manifest.json"

    expected = duckdb.sql(
        """SELECT "lineItem/LineItemType" AS t, count(*) AS n, sum("lineItem/UnblendedCost"::DOUBLE) AS c
           FROM read_csv(?, all_varchar=true) GROUP BY 1 ORDER BY 1""", params=[str(sample)]).fetchall()
    got = query(con, """SELECT CASE ChargeCategory WHEN 'Usage' THEN 'Usage' ELSE ChargeCategory END AS t,
                        count(*) AS n, sum(BilledCost) AS c, sum(EffectiveCost) AS e
                        FROM cost_lines GROUP BY 1 ORDER BY 1""").rows()
    assert [(t, n) for t, n, _, _ in got] == [(t, n) for t, n, _ in expected]
    for (_, _, billed, effective), (_, _, c) in zip(got, expected):
        assert billed == pytest.approx(c) and effective == pytest.approx(c)
    regions = query(con, "SELECT count(DISTINCT RegionId) AS n FROM cost_lines")["n"][0]
    assert regions == duckdb.sql('SELECT count(DISTINCT "product/region") FROM read_csv(?, all_varchar=true)',
                                 params=[str(sample)]).fetchone()[0]
    assert query(con, "SELECT count(*) AS n FROM cost_lines WHERE x_is_ai")["n"][0] == 0


@pytest.mark.parametrize(
    "usage_type, product_name, model, token",
    [
        ("USE1-Claude4.6Sonnet-input-tokens", "Amazon Bedrock", "regional.anthropic.claude-sonnet-4-6-v1:0", "input"),
        ("EUC1-Claude4.6Sonnet-output-tokens-cross-region-global", "Amazon Bedrock",
         "global.anthropic.claude-sonnet-4-6-v1:0", "output"),
        ("Claude3.7Sonnet-cache-read-input-token-count", "Amazon Bedrock",
         "regional.anthropic.claude-3-7-sonnet-20250219-v1:0", "cache_read"),
        ("USW2-MP:USW2_OutputTokenCount-Units", "Claude 3 Haiku (Amazon Bedrock Edition)",
         "regional.anthropic.claude-3-haiku-20240307-v1:0", "output"),
        ("USE1-NovaPro-input-tokens", "Amazon Bedrock", "amazon.nova-pro-v1:0", "input"),
        ("USE1-Llama9.9-input-tokens", "Amazon Bedrock", None, "input"),  # unknown: no guess
    ],
)
def test_usage_type_forms(usage_type, product_name, model, token):
    frame = pl.DataFrame({"u": [usage_type], "p": [product_name]})
    name = ut.model_name(pl.col("u"), pl.col("p"))
    got = frame.select(
        ut.canonical_model(ut.bedrock_model_id(name, ut.is_cross_region_global(pl.col("u")))).alias("m"),
        ut.token_type(pl.col("u")).alias("t"),
    ).row(0)
    assert got == (model, token)


@pytest.mark.parametrize(
    "code, usage_type, accelerator",
    [("AmazonEC2", "BoxUsage:p5.48xlarge", True), ("AmazonEC2", "USW2-BoxUsage:trn1.32xlarge", True),
     ("AmazonEC2", "SpotUsage:g5.2xlarge", True), ("AmazonEC2", "USE2-BoxUsage:inf2.xlarge", True),
     ("AmazonEC2", "BoxUsage:m5.large", False), ("AmazonEC2", "USE1-DataTransfer-Out-Bytes", False),
     ("AmazonS3", "BoxUsage:p5.48xlarge", False)],
)
def test_accelerator_instances(code, usage_type, accelerator):
    frame = pl.DataFrame({"c": [code], "u": [usage_type]})
    assert frame.select(ut.is_accelerator_instance(pl.col("c"), pl.col("u"))).item() is accelerator


def test_unknown_currency_is_refused_and_cny_is_fine(tmp_path):
    from pipelines.errors import SourceError
    from pipelines.sources.aws_cur_lines import read_file

    source = SourceConfig(name="aws", kind="aws_cur", path="unused")
    rows = [line(1, "2026-10", "Usage", "AmazonEC2", "CNN1-BoxUsage:m5.large", 3.0, currency="CNY",
                 region="cn-north-1")]
    ok = read_file("f.parquet", source, parquet_bytes(rows, tmp_path / "a.parquet"), datetime(2026, 10, 1))
    assert ok["BillingCurrency"].to_list() == ["CNY"]
    rows[0]["line_item_currency_code"] = "RMB"
    with pytest.raises(SourceError, match="unknown currency 'RMB'"):
        read_file("f.parquet", source, parquet_bytes(rows, tmp_path / "b.parquet"), datetime(2026, 10, 1))
    rows[0]["line_item_currency_code"] = "CNY"
    with pytest.raises(SourceError, match="another billing period"):
        read_file("f.parquet", source, parquet_bytes(rows, tmp_path / "c.parquet"), datetime(2026, 9, 1))


def test_aws_focus_export_layout_is_read_as_focus(tmp_path):
    """AWS's FOCUS export uses the Data Exports layout with lowercase `billing_period=` and FOCUS columns."""
    root = tmp_path / "bucket"
    key = "focus/acme-focus/data/billing_period=2026-10/acme-focus-00001.csv.gz"
    (root / key).parent.mkdir(parents=True)
    (root / key).write_bytes(gzip.compress(
        b"BilledCost,EffectiveCost,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
        b"ChargeCategory,ProviderName,ServiceName\n"
        b"2.5,2.0,USD,2026-10-01T00:00:00Z,2026-10-03T00:00:00Z,2026-10-04T00:00:00Z,Usage,AWS,Amazon Bedrock\n"
        b"-1.0,-1.0,USD,2026-10-01T00:00:00Z,2026-10-05T00:00:00Z,2026-10-06T00:00:00Z,Credit,AWS,Amazon Bedrock\n"))
    m = root / "focus/acme-focus/metadata/billing_period=2026-10/acme-focus-Manifest.json"
    m.parent.mkdir(parents=True)
    m.write_text(json.dumps({"dataFiles": [f"s3://somewhere/{key}"]}))
    config = cur_config(tmp_path, str(root / "focus"))
    con = connect_writer(config.warehouse_path)
    assert [(r.status, r.rows) for r in load_table(con, config, "cost_lines")] == [("loaded", 2)]
    assert period_totals(con) == {"2026-10": (2, 1.5, 1.0)}
