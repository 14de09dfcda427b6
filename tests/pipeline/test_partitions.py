"""Partitions: unit dates from paths, partition runs that read only their slice, CLI backfills, idempotence.

Expected values come from plain DuckDB SQL over the demo's input files (OTLP JSON lines, FOCUS CSVs), never
from the pipeline's own code. The demo's coding-agent logs are compared apart (APP / AGENTS below): Claude
Code's project folders are undated units, which every partition run reads whole.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.sources.units import in_window, partition_period, path_partition
from tests.support.agent_logs import agent_totals

REPO = Path(__file__).resolve().parents[2]
END = date(2026, 11, 5)  # demo days 2026-10-27 .. 2026-11-05: two billing months


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/data/logs/otel/2024-09-10.jsonl.gz", "2024-09-10"),
        ("s3://b/AWSLogs/1234/BedrockModelInvocationLogs/us-east-1/2024/09/10/14/x_1.json.gz", "2024-09-10"),
        ("s3://b/cur/acme/metadata/BILLING_PERIOD=2024-09/acme-Manifest.json", "2024-09"),
        ("s3://b/focus/data/billing_period=2024-09/2024-09-03T10-00-00/part-0.parquet", "2024-09"),
        ("/exports/report/20240901-20241001/report-Manifest.json", "2024-09"),
        ("/billing/openai-focus-2026-11.csv", "2026-11"),
        ("/billing/focus_sample.csv", None),
        ("/logs/2024-13-01.jsonl", None),          # not a date
        ("/logs/run-12345-67.jsonl", None),        # digits, not a month
        ("/archive/2023-01-01/logs/2024-09-10.jsonl", "2024-09-10"),  # nearest the file name wins
    ],
)
def test_partition_from_path(location, expected):
    assert path_partition(location) == expected


def test_window_selection():
    sept10 = (date(2024, 9, 10), date(2024, 9, 11))
    september = (date(2024, 9, 1), date(2024, 10, 1))
    assert partition_period("2024-02") == (date(2024, 2, 1), date(2024, 3, 1))
    assert in_window("2024-09-10", sept10) and not in_window("2024-09-11", sept10)
    assert in_window("2024-09-30", september) and not in_window("2024-10-01", september)
    assert in_window("2024-09", sept10)            # a monthly unit of a daily table: read by its days
    assert not in_window("2024-08", sept10)
    assert in_window(None, sept10)                 # undated: read by every run
    assert in_window("2024-01-01", None)           # no window: everything


# --------------------------------------------------------------------------------------------------------
# Plain SQL over the input files

SPANS_SQL = """
WITH r AS (SELECT unnest(resourceSpans) AS r FROM read_json(?, format='newline_delimited',
                                                                 maximum_object_size=1000000000)),
     s AS (SELECT unnest(r.scopeSpans) AS s FROM r),
     sp AS (SELECT unnest(s.spans) AS span FROM s)
SELECT count(*) AS spans,
       sum(CAST(list_filter(span.attributes, a -> a.key = 'gen_ai.usage.output_tokens')[1].value.intValue AS BIGINT))
         AS output_tokens
FROM sp
"""


def spans_in(files: list[Path]) -> tuple[int, int]:
    spans = output = 0
    for f in files:
        n, out = duckdb.sql(SPANS_SQL, params=[str(f)]).fetchone()
        spans, output = spans + n, output + (out or 0)
    return spans, output


def billed_in(files: list[Path]) -> float:
    return duckdb.sql(
        "SELECT sum(TRY_CAST(BilledCost AS DOUBLE)) FROM read_csv(?, all_varchar=true, union_by_name=true)",
        params=[[str(f) for f in files]],
    ).fetchone()[0]


def usage_files(root: Path, days: list[str] | None = None) -> list[Path]:
    files = sorted((root / "logs" / "otel").glob("*.jsonl.gz"))
    return [f for f in files if days is None or f.name[:10] in days]


# The application logs' rows (OTLP spans), and the coding agents' (tests/support/agent_logs.py counts those).
APP, APP_MARTS, AGENTS = "x_source = 'app_logs'", "task <> 'coding_agent'", "x_source <> 'app_logs'"


def warehouse(root: Path):
    return duckdb.connect(str(root / "warehouse" / "aispend.duckdb"), read_only=True)


def totals(root: Path) -> dict:
    con = warehouse(root)
    try:
        return {
            "usage": con.sql("SELECT sum(request_count), sum(output_tokens), round(sum(cost_usd), 6) "
                             "FROM usage_events").fetchone(),
            "usage_daily": con.sql("SELECT sum(requests), sum(output_tokens), round(sum(cost_usd), 6) "
                                   "FROM usage_daily").fetchone(),
            "task_daily": con.sql("SELECT sum(runs), sum(requests) FROM task_daily").fetchone(),
            "app": con.sql(f"SELECT sum(request_count), sum(output_tokens) FROM usage_events WHERE {APP}").fetchone(),
            "app_daily": con.sql(f"SELECT sum(requests), sum(output_tokens) FROM usage_daily WHERE {APP_MARTS}")
            .fetchone(),
            "app_task_daily": con.sql(f"SELECT sum(requests) FROM task_daily WHERE {APP_MARTS}").fetchone()[0],
            "agents": con.sql(f"SELECT sum(request_count), sum(output_tokens) FROM usage_events WHERE {AGENTS}")
            .fetchone(),
            "billed": con.sql("SELECT round(sum(BilledCost), 6), count(*) FROM cost_lines").fetchone(),
            "spend_daily": con.sql("SELECT round(sum(billed_cost), 6), sum(line_count) FROM spend_daily").fetchone(),
            "roi": con.sql("SELECT task, runs, round(ai_cost_usd, 6) FROM task_roi ORDER BY task").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from pipelines.demo import generate_demo

    root = tmp_path_factory.mktemp("partitions") / "demo"
    generate_demo(root, days=10, events_target=3000, end_date=END)
    return root


def fresh_copy(demo: Path, tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(demo, root, ignore=shutil.ignore_patterns("warehouse"))
    return root


dg = pytest.importorskip("dagster")


def materialize(root: Path, names: list[str], partition_key: str | None = None, tags: dict | None = None):
    from pipelines.config import load_config
    from pipelines.defs.assets import build_assets
    from pipelines.defs.resources import AispendResource

    config = root / "aispend.yaml"
    assets = build_assets(load_config(config).start_date)
    return dg.materialize(assets, selection=names, partition_key=partition_key, tags=tags or {},
                          resources={"aispend": AispendResource(config_path=str(config))}, raise_on_error=False)


def test_daily_partition_reads_only_its_day(demo, tmp_path):
    root = fresh_copy(demo, tmp_path)
    assert materialize(root, ["prices", "tasks"]).success
    assert materialize(root, ["usage_events", "usage_daily"], partition_key="2026-11-02").success
    con = warehouse(root)
    read = [r[0] for r in con.sql("SELECT location FROM ingest_log WHERE source = 'app_logs'").fetchall()]
    days = con.sql("SELECT DISTINCT day FROM usage_daily ORDER BY 1").fetchall()
    # coding-agent files are dated by the day they started and may hold later days: usage_daily rebuilds every
    # day the load changed, not only the partition asked for
    loaded = con.sql("SELECT DISTINCT CAST(event_time AS DATE) FROM usage_events ORDER BY 1").fetchall()
    daily = con.sql(f"SELECT sum(requests), sum(output_tokens) FROM usage_daily WHERE {APP_MARTS}").fetchone()
    con.close()
    assert [Path(x).name for x in read] == ["2026-11-02.jsonl.gz"]
    assert days == loaded and (date(2026, 11, 2),) in days
    assert daily == spans_in(usage_files(root, ["2026-11-02"]))

    # Another day adds its own rows and leaves the first day's usage_daily rows alone.
    assert materialize(root, ["usage_events", "usage_daily"], partition_key="2026-11-04").success
    con = warehouse(root)
    by_day = dict(con.sql(f"SELECT day, sum(requests) FROM usage_daily WHERE {APP_MARTS} GROUP BY 1").fetchall())
    con.close()
    assert by_day == {date(2026, 11, 2): spans_in(usage_files(root, ["2026-11-02"]))[0],
                      date(2026, 11, 4): spans_in(usage_files(root, ["2026-11-04"]))[0]}


def test_monthly_cost_partition(demo, tmp_path):
    root = fresh_copy(demo, tmp_path)
    assert materialize(root, ["fx_rates"]).success  # the demo bills Azure in EUR: spend_daily converts it
    assert materialize(root, ["cost_lines", "spend_daily"], partition_key="2026-11-01").success
    november = sorted((root / "billing").glob("*-2026-11.csv"))
    assert november and len(november) < len(list((root / "billing").glob("*.csv")))
    con = warehouse(root)
    # the FOCUS files of November (the demo's other bill, Copilot premium requests, has November days too)
    read = sorted(Path(r[0]).name for r in con.sql("SELECT location FROM ingest_log WHERE source = 'billing'").fetchall())
    billed = con.sql("SELECT sum(BilledCost) FROM cost_lines WHERE x_source = 'billing'").fetchone()[0]
    every_line = con.sql("SELECT sum(BilledCost) FROM cost_lines").fetchone()[0]
    months = con.sql("SELECT DISTINCT date_trunc('month', day)::DATE FROM spend_daily").fetchall()
    spend = con.sql("SELECT sum(billed_cost) FROM spend_daily").fetchone()[0]
    con.close()
    assert read == [f.name for f in november]
    assert billed == pytest.approx(billed_in(november), abs=1e-6)
    assert spend == pytest.approx(every_line, abs=1e-6)
    assert months == [(date(2026, 11, 1),)]


def test_cli_backfill_then_full_run_then_rerun(demo, tmp_path, monkeypatch):
    """--from/--to loads exactly those days; a run without dates adds the rest; a re-run changes nothing;
    the totals equal a single whole run into another warehouse and plain SQL over the files. Dagster records one
    planned event per asset of a run over many days, not one per day (`aispend run` builds its assets
    unpartitioned, naming the days in tags)."""
    from pipelines.cli_run import materialize_pipeline

    root = fresh_copy(demo, tmp_path)
    config = root / "aispend.yaml"
    cli = [sys.executable, "-m", "pipelines.cli", "run", "--config", str(config), "--from", "2026-10-31",
           "--to", "2026-11-01"]
    backfill = subprocess.run(cli, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert backfill.returncode == 0, backfill.stderr[-4000:]
    con = warehouse(root)
    read = sorted(Path(r[0]).name for r in con.sql(
        "SELECT location FROM ingest_log WHERE source = 'app_logs'").fetchall())
    got = con.sql(f"SELECT sum(request_count), sum(output_tokens) FROM usage_events WHERE {APP}").fetchone()
    daily_days = con.sql(f"SELECT DISTINCT day FROM usage_daily WHERE {APP_MARTS} ORDER BY 1").fetchall()
    con.close()
    assert read == ["2026-10-31.jsonl.gz", "2026-11-01.jsonl.gz"]
    assert got == spans_in(usage_files(root, ["2026-10-31", "2026-11-01"]))
    assert daily_days == [(date(2026, 10, 31),), (date(2026, 11, 1),)]

    assert materialize_pipeline(config, log=lambda m: None).success
    after_full = totals(root)
    assert materialize_pipeline(config, log=lambda m: None).success
    assert totals(root) == after_full                      # a re-run changes nothing

    spans, output = spans_in(usage_files(root))
    billed = billed_in(sorted((root / "billing").glob("*.csv")))
    assert after_full["app"] == (spans, output)
    assert after_full["app_daily"] == after_full["app"]
    assert after_full["agents"] == agent_totals(root)
    assert after_full["usage_daily"] == after_full["usage"]
    assert after_full["billed"][0] == pytest.approx(billed, abs=1e-6)
    assert after_full["spend_daily"] == after_full["billed"]
    assert after_full["app_task_daily"] == spans and after_full["task_daily"][1] == after_full["usage"][0]

    planned: list[tuple[str, str | None]] = []  # (asset, day) of each planned event the whole run recorded
    report = dg.DagsterInstance.report_dagster_event

    def counted(self, event, *args, **kwargs):
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            data = event.event_specific_data
            planned.append((data.asset_key.to_user_string(), data.partition))
        return report(self, event, *args, **kwargs)

    monkeypatch.setattr(dg.DagsterInstance, "report_dagster_event", counted)
    whole = fresh_copy(demo, tmp_path / "whole")
    assert materialize_pipeline(whole / "aispend.yaml", log=lambda m: None).success
    assert totals(whole) == after_full
    assert ("usage_daily", None) in planned and len(planned) == len(set(planned))
    assert not any(day for _, day in planned)


def test_transient_failure_is_not_quarantined_and_others_load(tmp_path):
    """A storage hiccup leaves the unit for the retry (no ingest_log entry); bad input is quarantined; the rest load."""
    import polars as pl

    from pipelines.config import SourceConfig
    from pipelines.ingest import ingest_source
    from pipelines.sources.units import Unit
    from pipelines.storage import TransientError
    from pipelines.errors import SourceError
    from warehouse.db import Warehouse

    source = SourceConfig(name="logs", kind="usage_csv", path="x")

    def good() -> pl.DataFrame:
        from datetime import datetime

        from pipelines.schemas import USAGE_EVENTS, conform

        return conform(pl.DataFrame({"event_time": [datetime(2026, 11, 2, 9)], "provider": ["openai"],
                                     "model": ["gpt-4o"], "raw_model": ["gpt-4o"], "task": ["t"],
                                     "request_count": [1], "input_tokens": [1], "cache_read_tokens": [0],
                                     "cache_write_tokens": [0], "output_tokens": [1], "reasoning_tokens": [0],
                                     "is_batch": [False], "status": ["ok"], "x_source": ["logs"],
                                     "x_source_file": ["good"]}), USAGE_EVENTS)

    def flaky() -> pl.DataFrame:
        raise TransientError("s3://b/flaky", "cannot read S3 object: 503 SlowDown")

    def bad() -> pl.DataFrame:
        raise SourceError("bad", "not a number", row=3, column="input_tokens")

    units = [Unit(name, name, load, lambda: None, {"x_source": "logs", "x_source_file": name}, "2026-11-02")
             for name, load in [("good", good), ("flaky", flaky), ("bad", bad)]]
    db = Warehouse(tmp_path / "wh.duckdb")
    results = {r.location: r.status for r in ingest_source(db, source, lambda: units)}
    assert results == {"good": "loaded", "flaky": "failed", "bad": "quarantined"}
    with db.connect() as con:
        logged = dict(con.execute("SELECT location, status FROM ingest_log").fetchall())
        rows = con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
    assert logged == {"good": "loaded", "bad": "quarantined"} and rows == 1
