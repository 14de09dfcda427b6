"""Bedrock invocation logs: every file shape, S3 delivery through a real S3 endpoint, refused input, and the
proof that prompt and completion text never reaches the warehouse, ingest_log or the logs.

Expected values are worked out by hand from tests/fixtures/usage/bedrock_invocations.jsonl (four records):
1. haiku, InvokeModel: input 120, output 40; task summarize_ticket, team support, run r1
2. us. inference profile of sonnet 4, Converse: input 30 (Bedrock excludes cache), cache read 2000, write 500,
   output 200; outcome "Success" -> success, project helpdesk
3. full inference-profile ARN of nova lite, guardrail-blocked: no token fields -> 0; no metadata -> unattributed
4. titan with errorCode ThrottlingException: input 15, no output count -> 0; status error, outcome failure
Every body holds MARKER.
"""

from __future__ import annotations

import gzip
import json
import logging
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.config import AispendConfig, SourceConfig
from pipelines.errors import SourceError
from pipelines.models import normalize_model
from pipelines.schemas import USAGE_EVENTS
from pipelines.sources import bedrock_logs, spec

FIXTURE = Path(__file__).parents[1] / "fixtures" / "usage" / "bedrock_invocations.jsonl"
MARKER = "PROMPT-MARKER-7f3a9c"
SOURCE = SourceConfig(name="bedrock", kind="bedrock_invocation_logs", path="unused")
RECORDS = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]

EXPECTED = [
    {"event_time": datetime(2025, 8, 15, 14, 39, 40), "raw_model": "anthropic.claude-3-haiku-20240307-v1:0",
     "task": "summarize_ticket", "team": "support", "run_id": "r1", "project": None, "request_id": "req-0001",
     "user_id": "arn:aws:sts::111122223333:assumed-role/app-role/worker-1", "input_tokens": 120,
     "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 40, "status": "ok", "outcome": None},
    {"event_time": datetime(2025, 8, 15, 14, 39, 42, 500000), "raw_model": "us.anthropic.claude-sonnet-4-20250514-v1:0",
     "task": "summarize_ticket", "team": None, "run_id": "r1", "project": "helpdesk", "request_id": "req-0002",
     "user_id": "arn:aws:sts::111122223333:assumed-role/app-role/worker-1", "input_tokens": 30,
     "cache_read_tokens": 2000, "cache_write_tokens": 500, "output_tokens": 200, "status": "ok", "outcome": "success"},
    {"event_time": datetime(2025, 8, 15, 15, 2, 0),
     "raw_model": "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-lite-v1:0",
     "task": "unattributed", "team": None, "run_id": None, "project": None, "request_id": "req-0003",
     "user_id": "arn:aws:iam::111122223333:user/alice", "input_tokens": 0, "cache_read_tokens": 0,
     "cache_write_tokens": 0, "output_tokens": 0, "status": "ok", "outcome": None},
    {"event_time": datetime(2025, 8, 15, 15, 5, 0), "raw_model": "amazon.titan-text-express-v1",
     "task": "unattributed", "team": "ops", "run_id": None, "project": None, "request_id": "req-0004",
     "user_id": "arn:aws:iam::111122223333:user/bob", "input_tokens": 15, "cache_read_tokens": 0,
     "cache_write_tokens": 0, "output_tokens": 0, "status": "error", "outcome": "failure"},
]
# Hand sums over the four records.
TOTALS = {"input_tokens": 165, "cache_read_tokens": 2000, "cache_write_tokens": 500, "output_tokens": 240}


def _check(frame: pl.DataFrame, path: str, expected=EXPECTED) -> None:
    assert dict(frame.schema) == USAGE_EVENTS
    rows = frame.to_dicts()
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected):
        assert {k: got[k] for k in want} == want
        assert got["provider"] == "aws" and got["request_count"] == 1 and got["is_batch"] is False
        assert got["reasoning_tokens"] == 0 and got["latency_ms"] is None
        assert got["cost_usd"] is None and got["price_source"] is None
        assert got["x_source"] == "bedrock" and got["x_source_file"] == path
    models = pl.DataFrame(expected).select(normalize_model(pl.lit("aws"), pl.col("raw_model")).alias("m"))["m"]
    assert frame["model"].to_list() == models.to_list()
    assert all(MARKER not in str(v) for row in rows for v in row.values())


def test_registry_names_bedrock():
    assert spec("bedrock_invocation_logs").read is bedrock_logs.read


def test_json_lines_fixture():
    _check(bedrock_logs.read(str(FIXTURE), SOURCE), str(FIXTURE))


def test_model_ids_resolve_to_price_table_ids():
    frame = bedrock_logs.read(str(FIXTURE), SOURCE)
    # A full ARN and a bare id of the same profile resolve alike; the ARN is kept as logged in raw_model.
    arn_model = frame["model"][2]
    bare = pl.select(normalize_model(pl.lit("aws"), pl.lit("us.amazon.nova-lite-v1:0"))).item()
    assert arn_model == bare and "arn:" not in arn_model


@pytest.mark.parametrize(
    "shape",
    ["concatenated", "pretty", "array", "gzip"],
)
def test_other_record_layouts(shape):
    if shape == "concatenated":
        body = "".join(json.dumps(r) for r in RECORDS).encode()
    elif shape == "pretty":
        body = "\n".join(json.dumps(r, indent=2) for r in RECORDS).encode()
    elif shape == "array":
        body = json.dumps(RECORDS, indent=1).encode()
    else:
        body = gzip.compress(FIXTURE.read_bytes())
    name = "s3://b/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2025/08/15/14/x" + (".json.gz" if shape == "gzip" else ".json")
    _check(bedrock_logs.read(name, SOURCE, data=body), name)


@pytest.mark.parametrize("shape", ["lines", "concatenated", "pretty", "array", "events"])
def test_backslashes_in_bodies_and_tags_in_every_layout(shape):
    """Prompts hold code and Windows paths: a backslash (escaped in JSON) anywhere in a record reads as written
    in every layout (Polars' text of a nested object dropped one, which refused an array or pretty file)."""
    body = {"messages": [{"role": "user", "content": [{"text": "C:\\temp\\x, a quote \\\" and " + MARKER}]}]}
    records = [dict(r, input=dict(r.get("input", {}), inputBodyJson=body),
                    requestMetadata=dict(r.get("requestMetadata") or {}, task=f"dir\\{i}\\n"))
               for i, r in enumerate(RECORDS)]
    if shape == "lines":
        data = "\n".join(json.dumps(r) for r in records)
    elif shape == "concatenated":
        data = "".join(json.dumps(r) for r in records)
    elif shape == "pretty":
        data = "\n".join(json.dumps(r, indent=2) for r in records)
    elif shape == "array":
        data = json.dumps(records, indent=1)
    else:
        data = json.dumps({"events": [{"timestamp": 1755268780000, "message": json.dumps(r)} for r in records]},
                          indent=4)
    frame = bedrock_logs.read("x.json", SOURCE, data=data.encode())
    assert frame["task"].to_list() == [f"dir\\{i}\\n" for i in range(len(RECORDS))]
    assert frame["input_tokens"].sum() == TOTALS["input_tokens"]
    assert MARKER not in str(frame.to_dicts())


def test_cloudwatch_lines_and_filter_log_events():
    millis = [1755268780000, 1755268782500, 1755270120000, 1755270300000]
    lines = "\n".join(json.dumps({"timestamp": ms, "message": json.dumps(r)}) for ms, r in zip(millis, RECORDS))
    _check(bedrock_logs.read("cw.jsonl", SOURCE, data=lines.encode()), "cw.jsonl")

    page = {"events": [{"logStreamName": "aws/bedrock/modelinvocations", "timestamp": ms, "message": json.dumps(r),
                        "ingestionTime": ms + 300, "eventId": str(i)} for i, (ms, r) in enumerate(zip(millis, RECORDS))],
            "searchedLogStreams": []}
    pretty = json.dumps(page, indent=4).encode()  # what `aws logs filter-log-events` prints
    _check(bedrock_logs.read("events.json", SOURCE, data=pretty), "events.json")


def test_cloudwatch_time_used_when_record_has_none_and_export_prefix():
    record = {k: v for k, v in RECORDS[0].items() if k != "timestamp"}
    line = json.dumps({"timestamp": 1755268780000, "message": json.dumps(record)})
    frame = bedrock_logs.read("cw.jsonl", SOURCE, data=line.encode())
    assert frame["event_time"].to_list() == [datetime(2025, 8, 15, 14, 39, 40)]
    # CloudWatch's export-to-S3 task writes "<time> <message>" lines
    exported = "\n".join(f"2025-08-15T14:39:4{i}.000Z {json.dumps(r)}" for i, r in enumerate(RECORDS))
    _check(bedrock_logs.read("000000.gz", SOURCE, data=gzip.compress(exported.encode())), "000000.gz")


def test_metadata_keys_are_options():
    record = dict(RECORDS[0], requestMetadata={"job": "triage", "squad": "blue", "trace": "t-9", "result": "failure",
                                                "app": "desk"})
    source = SourceConfig(name="bedrock", kind="bedrock_invocation_logs", path="unused", options={
        "task_key": "job", "team_key": "squad", "run_id_key": "trace", "outcome_key": "result", "project_key": "app"})
    row = bedrock_logs.read("x.json", source, data=json.dumps(record).encode()).to_dicts()[0]
    assert (row["task"], row["team"], row["run_id"], row["outcome"], row["project"]) == (
        "triage", "blue", "t-9", "failure", "desk")


def _line(record: dict) -> str:
    return json.dumps(record)


@pytest.mark.parametrize(
    ("second_line", "expected"),
    [
        ('{"schemaType": "ModelInvocationLog", "input": {"inputBodyJson": "' + MARKER, r"line 2 is not valid JSON"),
        (_line(dict(RECORDS[1], input=f"{MARKER} as text")), r"line 2: field 'input' has the wrong type"),
        (_line(dict(RECORDS[1], input=dict(RECORDS[1]["input"], inputTokenCount=-3))),
         r"line 2: field 'input.inputTokenCount' is not a whole number from 0 to 1e13"),
        (_line(dict(RECORDS[1], output={"outputTokenCount": "many", "outputBodyJson": MARKER})),
         r"line 2: field 'output.outputTokenCount' is not a number"),
        (_line(dict(RECORDS[1], input=dict(RECORDS[1]["input"], cacheReadInputTokenCount=2.5))),
         r"line 2: field 'input.cacheReadInputTokenCount' is not a whole number"),
        (_line({k: v for k, v in RECORDS[1].items() if k != "modelId"}), r"line 2: field 'modelId' is missing"),
        (_line(dict(RECORDS[1], timestamp="yesterday")), r"line 2: field 'timestamp' is not a timestamp"),
        (_line(dict(RECORDS[1], schemaType="SomethingElse")), r"line 2: field 'schemaType' is not ModelInvocationLog"),
        (f"hello {MARKER}", r"line 2 is not a JSON object"),
    ],
)
@pytest.mark.parametrize("before", [1, 1500])  # in a long file, past the first pieces decoded (DECODE_PIECE)
def test_refused_records_name_line_and_field_never_the_body(second_line, expected, before):
    lines = [_line(RECORDS[0])] * before + [second_line] + [_line(RECORDS[0])] * 300
    with pytest.raises(SourceError, match=expected.replace("line 2", f"line {before + 1}")) as info:
        bedrock_logs.read("bad.jsonl", SOURCE, data=("\n".join(lines) + "\n").encode())
    assert MARKER not in info.value.message


def test_bad_cloudwatch_message_names_event():
    page = {"events": [{"timestamp": 1, "message": json.dumps(RECORDS[0])},
                       {"timestamp": 2, "message": json.dumps(dict(RECORDS[1], input=MARKER))}]}
    with pytest.raises(SourceError, match=r"record 1, event 2: field 'input' has the wrong type") as info:
        bedrock_logs.read("events.json", SOURCE, data=json.dumps(page, indent=2).encode())
    assert MARKER not in info.value.message


def test_truncated_gzip_is_refused():
    data = gzip.compress(FIXTURE.read_bytes())[:-20]
    with pytest.raises(SourceError, match="unreadable gzip"):
        bedrock_logs.read("x.json.gz", SOURCE, data=data)


# ---------------------------------------------------------------- into a warehouse, locally and from S3


def _ingest(tmp_path: Path, source: SourceConfig, caplog) -> tuple[list, list[str], Path]:
    from pipelines.loads import load_prices, load_table
    from warehouse.db import connect_writer

    config = AispendConfig(warehouse=str(tmp_path / "wh" / "aispend.duckdb"), sources=[source], base_dir=str(tmp_path))
    messages: list[str] = []
    con = connect_writer(config.warehouse_path)
    try:
        with caplog.at_level(logging.DEBUG):
            load_prices(con, config, messages.append)
            first = load_table(con, config, "usage_events", messages.append)
            second = load_table(con, config, "usage_events", messages.append)
    finally:
        con.close()
    messages.append(caplog.text)
    return first + second, messages, config.warehouse_path


def _warehouse_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_marker_never_reaches_warehouse_ingest_log_or_logs(tmp_path, caplog, capsys):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "good.jsonl").write_bytes(FIXTURE.read_bytes())
    # A bad file whose refused line holds the marker: its error must not quote it.
    (logs / "bad.jsonl").write_text(_line(RECORDS[0]) + "\n" + _line(dict(RECORDS[1], input=MARKER)) + "\n")
    source = SourceConfig(name="bedrock", kind="bedrock_invocation_logs", path=str(logs))
    results, messages, warehouse = _ingest(tmp_path, source, caplog)

    assert [(Path(r.location).name, r.status) for r in results] == [
        ("bad.jsonl", "quarantined"), ("good.jsonl", "loaded"), ("bad.jsonl", "quarantined"), ("good.jsonl", "unchanged")]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        sums = con.sql("SELECT count(*), sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), "
                       "sum(output_tokens) FROM usage_events").fetchone()
        log_rows = con.sql("SELECT * FROM ingest_log").fetchall()
        everything = con.sql("SELECT * FROM usage_events").fetchall()
    finally:
        con.close()
    assert sums == (4, *TOTALS.values())
    assert any("field 'input' has the wrong type" in str(row) for row in log_rows)
    assert MARKER not in str(log_rows) and MARKER not in str(everything)
    assert MARKER.encode() not in _warehouse_bytes(warehouse.parent)
    out = capsys.readouterr()
    assert MARKER not in "\n".join(messages) + out.out + out.err
    assert any("QUARANTINED" in m for m in messages)


def test_s3_delivery_layout_through_moto(tmp_path, s3, caplog):
    prefix = "team-logs/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2025/08/15"
    lines = FIXTURE.read_text().splitlines()
    # Three hourly files as Bedrock delivers them (gzip JSON lines), plus the permission-check object it writes.
    s3.put("acme-logs", f"{prefix}/14/20250815T1440Z_a1b2.json.gz", gzip.compress("\n".join(lines[:2]).encode()))
    s3.put("acme-logs", f"{prefix}/15/20250815T1503Z_c3d4.json.gz", gzip.compress(lines[2].encode()))
    s3.put("acme-logs", f"{prefix}/15/20250815T1506Z_e5f6.json.gz", gzip.compress((lines[3] + "\n").encode()))
    s3.put("acme-logs", "team-logs/AWSLogs/111122223333/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check",
           b"")
    source = SourceConfig(name="bedrock", kind="bedrock_invocation_logs", path="s3://acme-logs/team-logs/AWSLogs/",
                          endpoint_url=s3.endpoint_url, region="us-east-1", options={"pattern": "*.json.gz"})
    results, messages, warehouse = _ingest(tmp_path, source, caplog)

    assert [r.status for r in results] == ["loaded"] * 3 + ["unchanged"] * 3
    # keys below the source's prefix (s3://acme-logs/team-logs/AWSLogs/)
    assert all(f"s3://acme-logs/team-logs/AWSLogs/{r.location}".startswith(f"s3://acme-logs/{prefix}/")
               for r in results)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        by_file = con.sql("SELECT x_source_file, count(*), sum(input_tokens), sum(output_tokens) FROM usage_events "
                          "GROUP BY 1 ORDER BY 1").fetchall()
        totals = con.sql("SELECT sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(output_tokens), "
                         "count(*) FILTER (WHERE status = 'error') FROM usage_events").fetchone()
    finally:
        con.close()
    assert [(Path(f).name, n, i, o) for f, n, i, o in by_file] == [
        ("20250815T1440Z_a1b2.json.gz", 2, 150, 240),
        ("20250815T1503Z_c3d4.json.gz", 1, 0, 0),
        ("20250815T1506Z_e5f6.json.gz", 1, 15, 0),
    ]
    assert totals == (*TOTALS.values(), 1)
    assert MARKER.encode() not in _warehouse_bytes(warehouse.parent)
    assert MARKER not in "\n".join(messages)


# ---------------------------------------------------------------- small files read together


def _deliveries() -> list[tuple[str, bytes]]:
    """Small files as Bedrock's S3 delivery and CloudWatch's export-to-S3 write them, with the traps a file
    read alone survives: fractional seconds, an empty file, CRLF and blank lines, backslashes in tags."""
    lines = [json.dumps(r) for r in RECORDS]
    backslash = dict(RECORDS[0], requestMetadata={"task": "dir\\a\\n", "team": "x"})
    exported = "\n".join(f"2025-08-15T14:39:4{i}.000Z {line}" for i, line in enumerate(lines))
    return [
        ("d/14/a.json.gz", gzip.compress("\n".join(lines[:2]).encode())),
        ("d/14/empty.json.gz", gzip.compress(b"")),
        ("d/15/b.json", ("\n".join(lines[2:]) + "\n\n").encode()),
        ("d/15/export.gz", gzip.compress(exported.encode())),
        ("d/15/c.json", (json.dumps(backslash) + "\r\n").encode()),
    ]


def test_files_read_together_are_the_frames_each_read_alone_gives():
    from polars.testing import assert_frame_equal

    files = _deliveries()
    together = bedrock_logs.read_many(files, SOURCE)
    assert [f.height for f in together] == [2, 0, 2, 4, 1]
    for (path, data), frame in zip(files, together, strict=True):
        assert_frame_equal(frame, bedrock_logs.read(path, SOURCE, data=data))
    _check(together[3], "d/15/export.gz", [dict(e, event_time=t) for e, t in zip(EXPECTED, [
        datetime(2025, 8, 15, 14, 39, 40), datetime(2025, 8, 15, 14, 39, 42, 500000),
        datetime(2025, 8, 15, 15, 2, 0), datetime(2025, 8, 15, 15, 5, 0)])])


@pytest.mark.parametrize("shape", ["pretty", "array", "cloudwatch", "repeated key", "bad count", "not gzip"])
def test_read_many_leaves_other_shapes_and_faults_to_each_file_alone(shape):
    """Anything but plain JSON lines of records, and any fault, raises, so ingest reads each file alone."""
    line = json.dumps(RECORDS[0])
    odd = {
        "pretty": json.dumps(RECORDS[0], indent=2).encode(),
        "array": json.dumps(RECORDS).encode(),
        "cloudwatch": json.dumps({"timestamp": 1755268780000, "message": line}).encode(),
        "repeated key": ('{"modelId": "amazon.titan-text-express-v1", ' + line[1:]).encode(),
        "bad count": json.dumps(dict(RECORDS[0], output={"outputTokenCount": -1})).encode(),
        "not gzip": b"\x1f\x8b not really",
    }[shape]
    with pytest.raises(Exception):
        bedrock_logs.read_many([("d/a.json", line.encode()), ("d/b.json.gz" if shape == "not gzip" else "d/b.json", odd)],
                               SOURCE)


def _load_twice(tmp_path, monkeypatch, read_many, first: dict[str, str], then: dict[str, str]):
    """Load a folder of Bedrock files, add files, load again: (results, warehouse sums), with `read_many` as the
    kind's reader of files together."""
    import dataclasses

    from pipelines.loads import load_prices, load_table
    from pipelines.sources import specs
    from warehouse.db import connect_writer

    monkeypatch.setitem(specs(), "bedrock_invocation_logs", dataclasses.replace(bedrock_logs.SPEC, read_many=read_many))
    logs = tmp_path / "logs"
    logs.mkdir()
    source = SourceConfig(name="bedrock", kind="bedrock_invocation_logs", path=str(logs))
    config = AispendConfig(warehouse=str(tmp_path / "wh" / "aispend.duckdb"), sources=[source], base_dir=str(tmp_path))
    con = connect_writer(config.warehouse_path)
    try:
        load_prices(con, config, lambda m: None)
        results = []
        for files in (first, then):
            for name, text in files.items():
                (logs / name).write_text(text)
            results += load_table(con, config, "usage_events", lambda m: None)
        sums = con.sql("SELECT count(*), sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), "
                       "sum(output_tokens) FROM usage_events").fetchone()
    finally:
        con.close()
    return [(Path(r.location).name, r.status, r.error) for r in results], sums


LINES = [json.dumps(r) for r in RECORDS]


def test_a_bad_file_among_files_read_together_is_quarantined_alone(tmp_path, monkeypatch):
    """Ingest reads small files of a kind with `read_many` in one call; when that call raises, each is read
    alone: the bad file is quarantined with its own line and field, the others load, nothing is counted twice."""
    calls: list[list[str]] = []

    def counting(files, source):
        calls.append([Path(path).name for path, _ in files])
        return bedrock_logs.read_many(files, source)

    repeated = LINES[0] + "\n" + '{"modelId": "amazon.titan-text-express-v1", ' + LINES[1][1:]
    results, sums = _load_twice(tmp_path, monkeypatch, counting,
                                {"a.json": "\n".join(LINES[:2]), "b.json": "\n".join(LINES[2:])},
                                {"c.json": repeated, "d.json": "\n".join(LINES)})
    assert calls == [["a.json", "b.json"], ["c.json", "d.json"]]
    assert [r[:2] for r in results] == [
        ("a.json", "loaded"), ("b.json", "loaded"),
        ("a.json", "unchanged"), ("b.json", "unchanged"), ("c.json", "quarantined"), ("d.json", "loaded")]
    assert "line 2: field 'modelId' appears twice" in results[4][2]
    assert sums == (8, *(2 * v for v in TOTALS.values()))


def test_a_value_out_of_bounds_in_files_read_together_is_named_by_its_own_file(tmp_path, monkeypatch):
    """Bounds are checked once for files read together; a value out of bounds sends each file to its own check,
    which names the file and row (here a reader that let a negative count through, for the test's sake)."""

    def lets_one_through(files, source):
        frames = bedrock_logs.read_many(files, source)
        return [f.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(-5).otherwise(pl.col("output_tokens"))
                               .alias("output_tokens")) if Path(path).name == "b.json" else f
                for (path, _), f in zip(files, frames)]

    results, sums = _load_twice(tmp_path, monkeypatch, lets_one_through,
                                {"a.json": "\n".join(LINES), "b.json": "\n".join(LINES), "c.json": LINES[0]}, {})
    assert [r[:2] for r in results] == [("a.json", "loaded"), ("b.json", "quarantined"), ("c.json", "loaded"),
                                        ("a.json", "unchanged"), ("b.json", "quarantined"), ("c.json", "unchanged")]
    assert "b.json" in results[1][2] and "row 2" in results[1][2] and "output_tokens" in results[1][2]
    assert sums == (5, TOTALS["input_tokens"] + 120, TOTALS["cache_read_tokens"], TOTALS["cache_write_tokens"],
                    TOTALS["output_tokens"] + 40)
