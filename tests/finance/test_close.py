"""Closing 2026-10, then a restated CUR delivery for it on a moto S3 endpoint (a second manifest): the closed
figures and the closed month's chargeback keep their numbers, `changes_after_close` lists exactly the restated
AI lines with their amounts (worked out here by plain SQL over the two deliveries' files), and a reopen lets
the month follow the data again.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.config import load_config
from pipelines.finance.close import CloseError, close_month, parse_month
from pipelines.plan import run_in_process
from tests.sources.test_source_aws_cur import (
    BUCKET, PREFIX, data_key, line, manifest, manifest_key, parquet_bytes,
)
from warehouse.db import connect_writer

P, BR = "2026-10", "Amazon Bedrock"
AI_PRODUCTS = ("AmazonBedrock", "AmazonEC2", "AmazonSageMaker")  # the product codes of AI lines in these files


def first_delivery() -> list[dict]:
    return [
        line(1, P, "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", 7.5, amount=2.5, unit="1M tokens",
             product_name=BR),
        line(2, P, "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-output-tokens", 4.5, amount=300, unit="1K tokens",
             product_name=BR),
        line(9, P, "Usage", "AmazonEC2", "BoxUsage:p5.48xlarge", 98.32, product_name="Amazon Elastic Compute Cloud"),
        line(10, P, "Usage", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 1.41, product_name="Amazon SageMaker"),
        line(15, P, "Credit", "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", -5.0, amount=0, product_name=BR),
        line(21, P, "Usage", "AmazonS3", "TimedStorage-ByteHrs", 0.5, amount=20, unit="GB-Mo", product_name="Amazon S3"),
    ]


def restated() -> list[dict]:
    """Line 1 re-rated, the GPU line 9 gone, a new output line 40, the S3 line (not AI) changed: AWS restating
    the month a week later."""
    rows = {r["identity_line_item_id"]: r for r in first_delivery()}
    rows["id0001"] = line(1, P, "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", 9.0, amount=3.0,
                          unit="1M tokens", product_name=BR)
    del rows["id0009"]
    rows["id0040"] = line(40, P, "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-output-tokens", 2.25, amount=150,
                          unit="1K tokens", product_name=BR)
    rows["id0021"] = line(21, P, "Usage", "AmazonS3", "TimedStorage-ByteHrs", 0.75, amount=30, unit="GB-Mo",
                          product_name="Amazon S3")
    return list(rows.values())


# Requests on the days the Claude lines bill (line n charges day 1 + n % 27): every logged day has its invoice,
# so the month's allocated AI spend is exactly its AI lines.
USAGE = "Timestamp,provider,model,input_tokens,output_tokens,request_count,task,team,run_id,status,outcome\n" + "".join(
    f"2026-10-{d:02d}T{h:02d}:10:00Z,aws,us.anthropic.claude-sonnet-4-6-v1:0,{100_000 * h},{2_000 * h},1,{task},"
    f"{team},r{d}{task},ok,success\n"
    for d in (2, 3) for h, task, team in ((1, "summarize", "support"), (3, "research", "search"))
)


def project(root: Path, endpoint: str) -> Path:
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "usage.csv").write_text(USAGE)
    (root / "aispend.yaml").write_text(textwrap.dedent(f"""\
        warehouse: wh/aispend.duckdb
        start_date: 2026-09-01
        sources:
          - {{name: aws, kind: aws_cur, path: "s3://{BUCKET}/{PREFIX}", endpoint_url: "{endpoint}", region: us-east-1}}
          - {{name: logs, kind: usage_csv, path: logs}}
        finance:
          chargeback: {{rule: even, cost_centers: {{support: CC-100, search: CC-200}}}}
    """))
    return root / "aispend.yaml"


def read(config: Path, statement: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(config.parent / "wh" / "aispend.duckdb"), read_only=True)
    try:
        return con.execute(statement, params or []).fetchall()
    finally:
        con.close()


def test_close_then_restate_keeps_closed_figures_and_lists_exactly_the_restated_lines(tmp_path, s3):
    files = tmp_path / "files"
    files.mkdir()
    first = data_key(P, "ai-cur-00001.snappy.parquet", "exec1")
    s3.put(BUCKET, first, parquet_bytes(first_delivery(), files / "first.parquet"))
    s3.put(BUCKET, manifest_key(P), manifest(P, [first]))
    config = project(tmp_path, s3.endpoint_url)
    run_in_process(load_config(config))

    assert main(["close", "2026-10", "--config", str(config), "--by", "alice"]) == 0
    (by, closed_billed, lines), = read(config, "SELECT closed_by, billed_cost, lines FROM closed_months")
    figures = read(config, "SELECT * FROM closed_figures ORDER BY ALL")
    chargeback = read(config, "SELECT * FROM chargeback WHERE month = '2026-10-01' ORDER BY team")
    assert by == "alice" and lines == 5  # every line but the S3 one
    # The AI lines of the first delivery by plain SQL: 7.5 + 4.5 + 98.32 + 1.41 - 5.0 = 106.73.
    assert closed_billed == pytest.approx(106.73, abs=1e-9)
    assert [r[1] for r in chargeback] == ["search", "support"] and all(r[-1] for r in chargeback)
    assert sum(r[6] for r in chargeback) == Decimal("106.73")  # to the cent: DECIMAL amounts add up exactly
    assert {r[1]: r[2] for r in chargeback} == {"search": "CC-200", "support": "CC-100"}

    # A week later AWS restates October: a new execution folder and a second manifest.
    second = data_key(P, "ai-cur-00001.snappy.parquet", "exec2")
    s3.put(BUCKET, second, parquet_bytes(restated(), files / "second.parquet"))
    s3.put(BUCKET, manifest_key(P), manifest(P, [second]))
    run_in_process(load_config(config))

    assert read(config, "SELECT * FROM closed_figures ORDER BY ALL") == figures
    assert read(config, "SELECT * FROM chargeback WHERE month = '2026-10-01' ORDER BY team") == chargeback
    # The restated data did load: the operational marts follow it.
    now = read(config, "SELECT sum(billed_cost_usd) FROM allocated_cost WHERE day < '2026-11-01'")[0][0]
    assert now == pytest.approx(106.73 + 1.5 - 98.32 + 2.25, abs=1e-9)

    # Exactly the restated AI lines, with their amounts, by plain SQL over the two files.
    want = duckdb.sql(f"""
        SELECT coalesce(b.identity_line_item_id, a.identity_line_item_id) AS id,
               CASE WHEN a.identity_line_item_id IS NULL THEN 'added'
                    WHEN b.identity_line_item_id IS NULL THEN 'removed' ELSE 'changed' END AS change,
               coalesce(b.line_item_unblended_cost, 0) - coalesce(a.line_item_unblended_cost, 0) AS amount
        FROM '{files / "first.parquet"}' a FULL JOIN '{files / "second.parquet"}' b USING (identity_line_item_id)
        WHERE coalesce(a.line_item_product_code, b.line_item_product_code) IN {AI_PRODUCTS}
          AND (a.line_item_unblended_cost IS DISTINCT FROM b.line_item_unblended_cost)
        ORDER BY id""").fetchall()
    got = read(config, "SELECT split_part(x_line_id, '|', 1), change, billed_change, billed_change_reporting, "
                       "currency, month FROM changes_after_close ORDER BY 1")
    assert [(g[0], g[1]) for g in got] == [(w[0], w[1]) for w in want] == [
        ("id0001", "changed"), ("id0009", "removed"), ("id0040", "added")]
    for g, w in zip(got, want):
        assert g[2] == pytest.approx(w[2], abs=1e-9) and g[3] == pytest.approx(w[2], abs=1e-9)
        assert g[4] == "USD" and str(g[5]) == "2026-10-01"
    # What the restatement would change is exactly the gap between the data now and the closed figures.
    assert sum(g[3] for g in got) == pytest.approx(now - closed_billed, abs=1e-9)

    # Reopened, the month follows the data again; the log keeps both steps.
    assert main(["reopen", "2026-10", "--config", str(config), "--by", "bob"]) == 0
    assert read(config, "SELECT count(*) FROM closed_lines")[0][0] == 0
    assert read(config, "SELECT count(*) FROM changes_after_close")[0][0] == 0
    reopened = read(config, "SELECT sum(total_cost), bool_or(is_closed) FROM chargeback WHERE month = '2026-10-01'")
    assert float(reopened[0][0]) == pytest.approx(now, abs=0.005) and reopened[0][1] is False
    assert read(config, "SELECT action, done_by FROM close_log ORDER BY done_at") == [("close", "alice"),
                                                                                      ("reopen", "bob")]


def test_a_month_closes_once_and_only_when_it_is_over(tmp_path):
    config = load_config(_empty_project(tmp_path))
    con = connect_writer(config.warehouse_path)
    try:
        with pytest.raises(CloseError, match="2026-11 is not over yet"):
            close_month(con, config, parse_month("2026-11"), "alice", today=parse_month("2026-11").replace(day=30))
        close_month(con, config, parse_month("2026-10"), "alice", today=parse_month("2026-11").replace(day=30))
        with pytest.raises(CloseError, match="already closed"):
            close_month(con, config, parse_month("2026-10"), "alice", today=parse_month("2026-11").replace(day=30))
    finally:
        con.close()
    with pytest.raises(CloseError, match="is not a month"):
        parse_month("October")
    assert main(["reopen", "2026-09", "--config", str(tmp_path / "aispend.yaml")]) == 2  # never closed


def _empty_project(root: Path) -> Path:
    (root / "aispend.yaml").write_text("warehouse: wh/aispend.duckdb\nstart_date: 2026-09-01\n")
    return root / "aispend.yaml"
