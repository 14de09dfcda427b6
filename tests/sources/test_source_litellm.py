"""LiteLLM spend logs: CSV, JSON array and JSON lines exports give the same events; tokens normalized to
uncached input; refused input names row and column.

Expected values are worked out by hand from tests/fixtures/usage/litellm_spend_logs.csv (five rows):
1. openai gpt-4o-mini: prompt 1000 incl. 200 cached -> input 800; tag task:summarize_ticket; metadata
   double-encoded; team from the key's team alias "support"; 1.5 s
2. anthropic haiku: prompt 5600 = 100 uncached + 5000 cache read + 500 cache write; task, run, outcome, project
   from spend_logs_metadata; 4.25 s
3. a LiteLLM response-cache hit: the provider was never called -> every count 0; task from requester_metadata
4. azure failure: status error, no usage object, user from end_user
5. bedrock via a model prefix (custom_llm_provider empty), reasoning 20 of 50 output, "+00" offsets, tag "task:"
   with no name -> unattributed
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.models import normalize_model
from pipelines.schemas import USAGE_EVENTS
from pipelines.sources import litellm, spec

FIXTURE = Path(__file__).parents[1] / "fixtures" / "usage" / "litellm_spend_logs.csv"
MARKER = "LITELLM-PROMPT-MARKER-51c2"
KEY_HASH = "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
SOURCE = SourceConfig(name="litellm", kind="litellm_spend", path="unused")

EXPECTED = [
    {"event_time": datetime(2025, 3, 1, 10, 0), "provider": "openai", "raw_model": "gpt-4o-mini",
     "task": "summarize_ticket", "run_id": None, "team": "support", "user_id": "u-1", "project": None,
     "request_id": "chatcmpl-a1", "input_tokens": 800, "cache_read_tokens": 200, "cache_write_tokens": 0,
     "output_tokens": 300, "reasoning_tokens": 0, "status": "ok", "outcome": None, "latency_ms": 1500.0},
    {"event_time": datetime(2025, 3, 1, 10, 5), "provider": "anthropic", "raw_model": "claude-3-5-haiku-20241022",
     "task": "draft_reply", "run_id": "run-9", "team": None, "user_id": "u-2", "project": "crm",
     "request_id": "msg_02", "input_tokens": 100, "cache_read_tokens": 5000, "cache_write_tokens": 500,
     "output_tokens": 250, "reasoning_tokens": 0, "status": "ok", "outcome": "success", "latency_ms": 4250.0},
    {"event_time": datetime(2025, 3, 1, 10, 6), "provider": "openai", "raw_model": "gpt-4o-mini",
     "task": "summarize_ticket", "run_id": None, "team": None, "user_id": "u-1", "project": None,
     "request_id": "chatcmpl-c3", "input_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0,
     "output_tokens": 0, "reasoning_tokens": 0, "status": "ok", "outcome": None, "latency_ms": 10.0},
    {"event_time": datetime(2025, 3, 1, 11, 0), "provider": "azure", "raw_model": "azure/gpt-4o",
     "task": "unattributed", "run_id": None, "team": None, "user_id": "cust-42", "project": None,
     "request_id": "req-d4", "input_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0,
     "output_tokens": 0, "reasoning_tokens": 0, "status": "error", "outcome": None, "latency_ms": 200.0},
    {"event_time": datetime(2025, 3, 1, 12, 0), "provider": "aws",
     "raw_model": "bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0", "task": "unattributed", "run_id": None,
     "team": "research", "user_id": "u-3", "project": None, "request_id": "req-e5", "input_tokens": 700,
     "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 50, "reasoning_tokens": 20, "status": "ok",
     "outcome": "failure", "latency_ms": 2000.0},
]
TOTALS = {"input_tokens": 1600, "cache_read_tokens": 5200, "cache_write_tokens": 500, "output_tokens": 600,
          "reasoning_tokens": 20}


def _rows() -> list[dict]:
    with FIXTURE.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _check(frame: pl.DataFrame, path: str) -> None:
    assert dict(frame.schema) == USAGE_EVENTS
    rows = frame.to_dicts()
    assert len(rows) == len(EXPECTED)
    for got, want in zip(rows, EXPECTED):
        assert {k: got[k] for k in want} == want
        assert got["request_count"] == 1 and got["is_batch"] is False
        assert got["cost_usd"] is None and got["price_source"] is None  # spend is LiteLLM's guess: never used
        assert got["x_source"] == "litellm" and got["x_source_file"] == path
    assert {k: frame[k].sum() for k in TOTALS} == TOTALS
    models = pl.DataFrame(EXPECTED).select(normalize_model(pl.col("provider"), pl.col("raw_model")).alias("m"))["m"]
    assert frame["model"].to_list() == models.to_list()
    text = str(rows)
    assert MARKER not in text and KEY_HASH not in text


def test_registry_names_litellm():
    assert spec("litellm_spend").read is litellm.read


def test_csv_export():
    _check(litellm.read(str(FIXTURE), SOURCE), str(FIXTURE))


def _as_json_value(row: dict) -> dict:
    """What a JSON export holds: numbers as numbers, metadata and tags as JSON values."""
    out = {}
    for key, value in row.items():
        if key in ("metadata", "request_tags") and value:
            decoded = json.loads(value)
            out[key] = json.loads(decoded) if isinstance(decoded, str) else decoded
        elif key in ("prompt_tokens", "completion_tokens", "total_tokens") and value:
            out[key] = int(value)
        else:
            out[key] = value or None
    return out


def test_json_array_export():
    body = json.dumps([_as_json_value(r) for r in _rows()], indent=2).encode()
    _check(litellm.read("spend.json", SOURCE, data=body), "spend.json")


def test_json_lines_export_with_double_encoded_metadata_gzipped():
    # metadata stays a JSON string holding JSON, as some exports write it
    lines = "\n".join(json.dumps(dict(_as_json_value(r), metadata=r["metadata"] or None)) for r in _rows())
    _check(litellm.read("spend.jsonl.gz", SOURCE, data=gzip.compress(lines.encode())), "spend.jsonl.gz")


def test_lowercase_headers_and_options():
    rows = _rows()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[k.lower() for k in rows[0]])
    writer.writeheader()
    for r in rows:
        writer.writerow({k.lower(): v for k, v in r.items()})
    source = SourceConfig(name="litellm", kind="litellm_spend", path="unused",
                          options={"task_tag_prefix": "env:", "prompt_tokens_include_cache_write": False})
    frame = litellm.read("lower.csv", source, data=buffer.getvalue().encode())
    assert frame["task"].to_list()[:2] == ["prod", "draft_reply"]
    # reads-only accounting: 5600 - 5000 cache read = 600 uncached; the 500 written still count as cache writes
    assert frame["input_tokens"][1] == 600 and frame["cache_write_tokens"][1] == 500


def _with(row: int, **changes) -> bytes:
    rows = _rows()
    rows[row - 1].update(changes)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_with(2, prompt_tokens="lots"), r"row 2, column 'prompt_tokens': not a number"),
        (_with(3, completion_tokens="-4"), r"row 3, column 'completion_tokens': not a whole number from 0 to 1e13 \(a token count\): '-4'"),
        (_with(1, prompt_tokens="10.5"), r"row 1, column 'prompt_tokens': not a whole number"),
        (_with(4, startTime="soon"), r"row 4, column 'startTime': not a timestamp"),
        (_with(4, startTime=""), r"row 4, column 'startTime': missing start time"),
        (_with(5, endTime="31/02/2025"), r"row 5, column 'endTime': not a timestamp"),
        (_with(2, status="pending"), r"row 2, column 'status': unknown status"),
        (_with(3, metadata="{not json " + MARKER), r"row 3, column 'metadata': not valid JSON"),
        (_with(1, request_tags='{"task": "x"}'), r"row 1, column 'request_tags': not a JSON list"),
        (_with(4, request_tags='["task:x"'), r"row 4, column 'request_tags': not a JSON list"),
        (_with(5, metadata="[1, 2]"), r"row 5, column 'metadata': not a JSON object"),
        (_with(1, request_tags='[{"task": "x"}]'), r"row 1, column 'request_tags': request tags must be a list of texts"),
        (_with(2, metadata=json.dumps({"usage_object": {"cache_read_input_tokens": -1}})),
         r"row 2, column 'metadata': usage_object: cache_read is not a whole number"),
        (b"request_id,model,prompt_tokens\nx,gpt-4o,1\n", r"column 'startTime': missing required column\(s\): startTime, completion_tokens"),
        (b'{"startTime": "2025-01-01", "model": "m"}\n{"startTime": "' + MARKER.encode() + b"\n",
         r"row 2: not a JSON object per line"),
        (b'[{"startTime": "2025-01-01"}, ' + MARKER.encode() + b"]", r"not valid JSON"),
    ],
)
def test_refused_input_names_row_and_column(data, expected):
    with pytest.raises(SourceError, match=expected) as info:
        litellm.read("spend.csv", SOURCE, data=data)
    assert MARKER not in info.value.message


def test_ragged_csv_is_refused_without_quoting_rows():
    data = FIXTURE.read_bytes() + f'x,acompletion,k,0,1,1,1,2025-03-01,,,"gpt-4o",{MARKER}\n'.encode() + b'"unclosed,\n'
    with pytest.raises(SourceError) as info:
        litellm.read("spend.csv", SOURCE, data=data)
    assert MARKER not in info.value.message


def test_empty_export_loads_nothing():
    header = FIXTURE.read_text().splitlines()[0] + "\n"
    assert litellm.read("spend.csv", SOURCE, data=header.encode()).height == 0
    assert litellm.read("spend.json", SOURCE, data=b"[]").height == 0


@pytest.mark.parametrize("task", ["C:\\jobs\\draft", "a\\nb", "quote \" and \\u0041", "tab\there", "naïve\\"])
def test_nested_metadata_values_keep_their_escapes(task):
    """A caller's tag in a nested object, holding a backslash or an escape, is read as written (Polars' own text
    of a nested object drops a backslash, so it is taken from the JSON as written)."""
    meta = json.loads(_rows()[1]["metadata"])
    meta["spend_logs_metadata"]["task"] = task
    meta["spend_logs_metadata"]["note"] = "line\nbreak \\ slash"
    for metadata in (json.dumps(meta), json.dumps(json.dumps(meta))):  # as an object, and double-encoded
        frame = litellm.read("spend.csv", SOURCE, data=_with(2, metadata=metadata))
        assert frame["task"][1] == task
        assert frame["run_id"][1] == "run-9" and frame["cache_read_tokens"][1] == 5000


@pytest.mark.parametrize("layout", ["jsonl", "json"])
def test_json_exports_keep_backslashes_in_nested_metadata(layout):
    rows = [_as_json_value(r) for r in _rows()]
    rows[1]["metadata"]["spend_logs_metadata"]["task"] = "C:\\jobs\\n1"
    data = "\n".join(json.dumps(r) for r in rows) if layout == "jsonl" else json.dumps(rows, indent=1)
    frame = litellm.read(f"spend.{layout}", SOURCE, data=data.encode())
    assert frame["task"][1] == "C:\\jobs\\n1"
    assert frame["cache_read_tokens"].sum() == TOTALS["cache_read_tokens"]


@pytest.mark.parametrize("escaped", ['tab\\there', 'form\\ffeed', 'bell\\u0007', 'slash\\u005cn', 'plain\\"quote\\nmid'])
def test_nested_metadata_escapes_polars_writes_back_wrong(escaped):
    """Only some escapes come back wrong from Polars (a control character, a backslash written as \\u005c);
    each tag reads as its JSON says, with no other backslash in the file."""
    text = _rows()[1]["metadata"].replace('"draft_reply"', f'"{escaped}"')
    frame = litellm.read("spend.csv", SOURCE, data=_with(2, metadata=text))
    assert frame["task"][1] == json.loads(f'"{escaped}"')


def _metadata(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


USAGE = {"completion_tokens": 40, "prompt_tokens": 1200, "cache_read_input_tokens": 1000,
         "cache_creation_input_tokens": 50.0, "prompt_tokens_details": {"cached_tokens": 1000},
         "completion_tokens_details": {"reasoning_tokens": 7}}
METADATA_SHAPES = {
    "plain": {"usage_object": USAGE, "status": "success", "user_api_key_team_alias": "support",
              "spend_logs_metadata": {"task": "triage", "run_id": 12, "outcome": "success"}},
    "null metadata": None,
    "no usage": {"requester_metadata": {"task": "from-requester", "project": "p"}},
    "usage object is null": {"usage_object": None, "spend_logs_metadata": {"team": "ops"}},
    "details double-encoded": {"usage_object": dict(USAGE, prompt_tokens_details=json.dumps({"cached_tokens": 3}))},
    "usage double-encoded": {"usage_object": json.dumps(USAGE)},
    "caller metadata a list": {"spend_logs_metadata": ["task", "x"]},
    "a value Polars writes back wrong": {"spend_logs_metadata": {"task": {"path": "C:\\temp"}}},
    "an object where text is wanted": {"spend_logs_metadata": {"task": "x", "outcome": {"ok": [1, "x"]}}},
}


@pytest.mark.parametrize("shape", list(METADATA_SHAPES))
def test_metadata_read_in_one_pass_equals_level_by_level(shape, monkeypatch):
    """The metadata decoded in one pass (its nesting in the schema) gives what decoding each level from the text
    the level above gave does, or leaves the file to that: each shape beside plain rows, so one odd row decides
    for the whole file."""
    from polars.testing import assert_frame_equal

    value = METADATA_SHAPES[shape]
    meta = pl.Series([_metadata(METADATA_SHAPES["plain"]), None if value is None else _metadata(value)])
    options = litellm.LitellmOptions().model_dump()
    at_once = litellm._decode_metadata(meta, options)
    monkeypatch.setattr(litellm, "_metadata_at_once", lambda *args: None)
    assert_frame_equal(at_once, litellm._decode_metadata(meta, options))
    assert at_once["caller_0_task"][0] == "triage" and at_once["usage_reasoning"][0] == "7"


def test_plain_metadata_is_read_in_one_pass_in_pieces_and_equals_level_by_level(monkeypatch):
    """Rows whose values where text is wanted are text or numbers take the one-pass decode, read in pieces of
    `common.DECODE_PIECE` (1,100 rows: three pieces), and give what decoding level by level gives. A value that is
    an object where text is wanted (the shape of that name above) leaves the file to the level-by-level decode."""
    from polars.testing import assert_frame_equal

    from pipelines.sources.common import DECODE_PIECE

    rows = [{"usage_object": dict(USAGE, completion_tokens_details={"reasoning_tokens": i}), "status": "success",
             "user_api_key_team_alias": f"team-{i % 3}",
             "spend_logs_metadata": {"task": f"t{i % 5}", "run_id": i, "outcome": "success"}}
            for i in range(2 * DECODE_PIECE + 76)]
    meta = pl.Series([_metadata(r) for r in rows])
    options = litellm.LitellmOptions().model_dump()
    keys = list(dict.fromkeys(options[k] for k in ("task_key", "run_id_key", "outcome_key", "team_key",
                                                   "project_key", "work_item_key")))
    at_once = litellm._metadata_at_once(meta, keys)
    assert at_once is not None
    assert at_once["usage_reasoning"].to_list() == [str(i) for i in range(len(rows))]
    assert at_once["caller_0_run_id"][1099] == "1099" and at_once["caller_0_task"][1099] == "t4"
    odd = METADATA_SHAPES["an object where text is wanted"]
    assert litellm._metadata_at_once(pl.Series([_metadata(odd)]), keys) is None
    monkeypatch.setattr(litellm, "_metadata_at_once", lambda *args: None)
    assert_frame_equal(at_once, litellm._decode_metadata(meta, options))
