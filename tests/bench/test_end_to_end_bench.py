"""bench/end_to_end.py at a tiny size: every stage and floor line is printed, and the warehouse holds the files.

The harness's figures mean something only if it measured the right thing: every stage `aispend run` went through,
a floor beside each reader and beside storing, and a warehouse that holds exactly what the generated files hold.
It runs here on 10k events over 2 days, all three scenarios (first load, a daily run, a re-delivered month), and
the totals are recomputed independently of the harness's own check, with plain DuckDB over the generated files.
No figure is asserted: the seconds live in bench/README.md. The tests over that run are slow (`make test-slow`):
it runs `aispend run` three times and every floor, about 50 s; the product's own runs are covered by the fast suite.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import sys
from contextlib import redirect_stdout
from pathlib import Path

import duckdb
import pytest

from pipelines.graph import GRAPH

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import end_to_end  # noqa: E402

EVENTS, DAYS = 10_000, 2
READ_FLOORS = {"first": {"otel", "bedrock", "litellm", "cur", "focus"}, "daily": {"otel", "bedrock", "litellm"},
               "redelivery": {"cur"}}


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    printed = io.StringIO()
    with redirect_stdout(printed):
        results = end_to_end.main(["--events", str(EVENTS), "--days", str(DAYS), "--dir", str(base), "--keep"])
    return results, printed.getvalue(), base / f"n{EVENTS}"


def stages_run(log: Path) -> list[str]:
    """The stages `aispend run` itself says it ran, from its own output."""
    found = [re.search(r"\[aispend\] running (.+)$", line) for line in log.read_text().splitlines()]
    return [m[1] for m in found if m and not re.match(r"\d+ assets", m[1])]


@pytest.mark.slow
def test_every_stage_and_floor_is_reported(bench):
    results, printed, root = bench
    assert list(results["scenarios"]) == ["first", "daily", "redelivery"]
    for name, scenario in results["scenarios"].items():
        assert f"== {name}:" in printed
        parts = [row["part"] for row in scenario["rows"]]
        stage_rows = [p for p in parts if not p.startswith(" ") and not p.startswith(("start-up", "planning",
                                                                                       "summary", "total"))]
        ran = stages_run(root / f"aispend-run-{name}.log")
        assert len(stage_rows) == len(ran) and ran, (stage_rows, ran)
        for row, stage in zip(stage_rows, ran):
            assert stage.startswith(row.split(" and ")[0].split(" [")[0])
        assert parts[0].startswith("start-up") and parts[-2] == "summary and exit" and parts[-1].startswith("total")
        floors = {row["part"].split(":")[0].strip() for row in scenario["rows"]
                  if row["part"].endswith("parse, normalize") and row["floor_s"]}
        assert floors == READ_FLOORS[name]
        assert set(scenario["floors"]["read"]) == READ_FLOORS[name]
        stored = [row for row in scenario["rows"] if row["part"].strip().startswith("store") and row["floor_s"]]
        assert len(stored) == (0 if name == "redelivery" else 1)
    first = {row["part"].strip() for row in results["scenarios"]["first"]["rows"]}
    for step in GRAPH:  # every step of the graph ran in the first load, alone or inside a stage
        assert any(part == step.name or part.startswith(step.name) for part in first), step.name
    for how in ("DuckDB read_json + unnest", "DuckDB read_csv", "DuckDB read_parquet", "CREATE TABLE AS"):
        assert how in printed


@pytest.mark.slow
def test_warehouse_holds_exactly_the_generated_files(bench):
    results, _, root = bench
    for scenario in results["scenarios"].values():
        assert scenario["exit_code"] == 0 and scenario["totals_equal"]
    files = {
        "otel": [str(p) for p in sorted(root.glob("otel/*.jsonl.gz"))],
        "bedrock": [str(p) for p in sorted(root.glob("bedrock/AWSLogs/**/*.json.gz"))],
        "litellm": [str(p) for p in sorted(root.glob("litellm/*.csv"))],
    }
    con = duckdb.connect()
    expected = {
        # rows and output tokens, read the plainest way each format allows
        "otel": con.execute(
            "WITH r AS (SELECT unnest(resourceSpans) AS r FROM read_json(?, format='newline_delimited')), "
            "s AS (SELECT unnest(r.scopeSpans) AS s FROM r), sp AS (SELECT unnest(s.spans) AS span FROM s) "
            "SELECT count(*), sum(CAST(list_filter(span.attributes, a -> a.key = 'gen_ai.usage.output_tokens')[1]"
            ".value.intValue AS BIGINT)) FROM sp", [files["otel"]]).fetchone(),
        "bedrock": con.execute("SELECT count(*), sum(output.outputTokenCount) FROM read_json(?, "
                               "format='newline_delimited')", [files["bedrock"]]).fetchone(),
        "litellm": con.execute("SELECT count(*), sum(completion_tokens) FROM read_csv(?)", [files["litellm"]]).fetchone(),
    }
    manifests = sorted(root.glob("cur/*/metadata/BILLING_PERIOD=*/*-Manifest.json"))
    listed = [str(root / uri.split("/", 3)[3]) for m in manifests for uri in json.loads(m.read_text())["dataFiles"]]
    billed = {
        "cur": con.execute("SELECT count(*), sum(line_item_unblended_cost) FROM read_parquet(?)", [listed]).fetchone(),
        "focus": con.execute("SELECT count(*), sum(BilledCost) FROM read_csv(?)",
                             [[str(p) for p in root.glob("focus/*.csv")]]).fetchone(),
    }
    warehouse = duckdb.connect(str(root / "warehouse" / "aispend.duckdb"), read_only=True)
    usage = {s: (n, out) for s, n, out in warehouse.execute(
        "SELECT x_source, count(*), sum(output_tokens) FROM usage_events GROUP BY 1").fetchall()}
    cost = {s: (n, b) for s, n, b in warehouse.execute(
        "SELECT x_source, count(*), sum(BilledCost) FROM cost_lines GROUP BY 1").fetchall()}
    warehouse.close()
    assert usage == expected
    assert sum(n for n, _ in usage.values()) == EVENTS + EVENTS // DAYS  # the history and the daily run's day
    assert usage["bedrock"][0] == results["split"]["bedrock"]
    assert {s: n for s, (n, _) in cost.items()} == {s: n for s, (n, _) in billed.items()}
    for source, (_, total) in billed.items():
        assert cost[source][1] == pytest.approx(total, rel=1e-12)
    assert any(c < 0 for (c,) in con.execute("SELECT line_item_unblended_cost FROM read_parquet(?)", [listed]).fetchall())


def test_the_estimate_generates_nothing(tmp_path):
    """`--estimate` prints the disk a size would take (from a 20k-event sample) and leaves no file behind."""
    printed = io.StringIO()
    with redirect_stdout(printed):
        results = end_to_end.main(["--events", "100M", "--dir", str(tmp_path), "--estimate"])
    assert results["events"] == 100_000_000
    # 20k sampled events make a few MB of files; 100M events at least 5,000x that, whatever the mix
    assert results["disk_bytes"] > 1e9
    assert re.search(r"source files about [\d,.]+ GB", printed.getvalue())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_reuse_takes_only_files_no_later_scenario_changed(bench, tmp_path):
    """`--reuse` keeps generated files only if a run would generate exactly them and nothing changed them since."""
    from datetime import timedelta

    from e2e_files import Written

    _, _, root = bench
    assert end_to_end.reusable(root, EVENTS, DAYS, Written.load(root).days[-1]) is None  # a daily run added a day
    today = Written.load(root).days[0] + timedelta(days=DAYS + 1)
    fresh = Written(today - timedelta(days=DAYS + 1), [today - timedelta(days=DAYS + 1 - i) for i in range(DAYS)],
                    per_day={"a": EVENTS // 2, "b": EVENTS // 2})
    fresh.save(tmp_path)
    assert end_to_end.reusable(tmp_path, EVENTS, DAYS, today) is not None
    assert end_to_end.not_reusable(tmp_path, EVENTS, DAYS, today) is None
    assert end_to_end.reusable(tmp_path, EVENTS * 2, DAYS, today) is None
    assert end_to_end.not_reusable(tmp_path, EVENTS * 2, DAYS, today) == f"they hold {EVENTS:,} events over {DAYS} days"
    assert end_to_end.reusable(tmp_path, EVENTS, DAYS, today + timedelta(days=1)) is None
    assert end_to_end.not_reusable(tmp_path, EVENTS, DAYS, today + timedelta(days=1)) == (
        f"they end {today - timedelta(days=2)}, and the history now ends the day before yesterday, "
        f"{today - timedelta(days=1)}")
    (tmp_path / "aispend-run-redelivery.log").write_text("")
    assert end_to_end.reusable(tmp_path, EVENTS, DAYS, today) is None
    assert end_to_end.not_reusable(tmp_path, EVENTS, DAYS, today) == "the redelivery scenario changed those files"
    assert end_to_end.not_reusable(tmp_path / "none", EVENTS, DAYS, today).startswith("no files a --keep run left")


@pytest.mark.slow
def test_reader_alone_times_each_way_and_refuses_frames_that_differ(bench, capsys, monkeypatch):
    """bench/reader_alone.py on the same history: each way of reading gives every record the floor read, and a
    `read_many` whose frames differ from `read`'s fails the script (exit 1) rather than printing a figure."""
    import reader_alone
    from pipelines.sources import specs

    _, _, root = bench
    argv = [str(root), "--files", "11", "--cut", "3", "--repeat", "1"]  # 33 small files: a group of 32 and one alone
    assert reader_alone.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("bedrock: 33 files") and "(2 calls)" in lines[3]
    counts = [int(re.search(r"([\d,]+) rows", line)[1].replace(",", "")) for line in lines[1:]]
    files = sorted((root.parent / "cut").rglob("*.json.gz"))
    records = duckdb.sql(f"SELECT count(*) FROM read_json({[str(f) for f in files]}, format='newline_delimited')")
    assert len(counts) == 3 and set(counts) == {records.fetchone()[0]} and counts[0] > 0

    spec = specs()["bedrock_invocation_logs"]
    dropping = dataclasses.replace(spec, read_many=lambda files, source: [f.head(f.height - 1)
                                                                          for f in spec.read_many(files, source)])
    monkeypatch.setitem(specs(), spec.kind, dropping)  # one record short in each file read together
    assert reader_alone.main(argv) == 1


@pytest.mark.slow
def test_store_settings_times_each_setting_beside_the_parquet_floor(bench, capsys, monkeypatch):
    """bench/store_settings.py on the same history's warehouse: every setting stores every row, beside the floor
    bench/end_to_end.py prints for "store"; a setting that loses rows fails the script (exit 1), not a figure."""
    import store_settings

    _, _, root = bench
    warehouse = root / "warehouse" / "aispend.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (events,) = con.execute("SELECT count(*) FROM usage_events").fetchone()
    assert store_settings.main([str(warehouse), "--only", "default,commits", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{events:,} usage events") and "Polars Parquet per day" in out
    assert out.count("default ") == 2 and out.count("commits of 1M rows") == 2
    assert not list(warehouse.parent.glob("store-settings-*"))  # the scratch files are gone

    stored = store_settings.store

    def one_row_short(*args):
        seconds, grouped, size, rows = stored(*args)
        return seconds, grouped, size, rows - 1

    monkeypatch.setattr(store_settings, "store", one_row_short)
    assert store_settings.main([str(warehouse), "--only", "default", "--repeat", "1"]) == 1
    assert f"stored {events - 1:,} rows of {events:,}: no figure for it" in capsys.readouterr().out


@pytest.mark.slow
def test_layout_reads_times_every_mart_from_both_layouts_and_refuses_other_rows(bench, capsys, monkeypatch,
                                                                               tmp_path):
    """bench/layout_reads.py on the same history's warehouse: every mart that reads events is timed from the table
    and from Parquet per day, and the scratch folder is removed; a layout that reads other rows fails (exit 1)."""
    import layout_reads

    _, _, root = bench
    warehouse = root / "warehouse" / "aispend.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (events,) = con.execute("SELECT count(*) FROM usage_events").fetchone()
    assert layout_reads.main([str(warehouse), "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{events:,} usage events")
    for mart in layout_reads.EVENT_COLUMNS:
        assert len(re.findall(rf"^  {mart} +table .* Parquet per day ", out, flags=re.M)) == 2  # the turn, the best
    assert "every mart" in out and not list(warehouse.parent.glob("layout-reads-*"))

    read = layout_reads.read_chunks

    def parquet_one_row_short(con, table, columns, chunks):
        seconds, rows, cost = read(con, table, columns, chunks)
        return seconds, rows - (table == layout_reads.VIEW), cost

    monkeypatch.setattr(layout_reads, "read_chunks", parquet_one_row_short)
    assert layout_reads.main([str(warehouse), "--repeat", "1"]) == 1
    assert "no figure for it" in capsys.readouterr().out
    assert not list(warehouse.parent.glob("layout-reads-*"))

    empty = tmp_path / "empty.duckdb"
    with duckdb.connect(str(empty)) as con:
        con.execute(f"ATTACH '{warehouse}' AS full_history (READ_ONLY)")  # ATTACH takes no parameters
        con.execute("CREATE TABLE usage_events AS SELECT * FROM full_history.usage_events LIMIT 0")
    assert layout_reads.main([str(empty), "--repeat", "1"]) == 1
    assert "holds no usage events" in capsys.readouterr().out and not list(tmp_path.glob("layout-reads-*"))
