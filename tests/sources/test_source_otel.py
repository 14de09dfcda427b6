"""OTel GenAI reader: both line shapes, old and new attribute names, gzip, and refused input.

Expected values are worked out by hand from tests/fixtures/sources/otel_mixed.jsonl (see the comments)."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import SourceConfig
from tests.support.builders import with_options
from pipelines.errors import SourceError
from pipelines.models import normalize_model
from pipelines.schemas import USAGE_EVENTS
from pipelines.sources import otel_genai, spec

FIXTURE = Path(__file__).parents[1] / "fixtures" / "sources" / "otel_mixed.jsonl"
SOURCE = SourceConfig(name="otel_test", kind="otel_genai", path="unused")

# The fixture: line 1 is OTLP (resource team=research, project=proj-a) with span A (new names), a non-GenAI
# span, and span C (old names, in a second scope); line 2 and 3 are flat records; line 4 blank; line 5 a
# flat non-GenAI span.
EXPECTED = [
    {  # span A: input 1000 incl. 200 cached -> 800 uncached; span team overrides the resource's
        "event_time": datetime(2024, 6, 1, 0, 0, 0), "provider": "openai", "raw_model": "gpt-4o-2024-08-06",
        "task": "summarize", "run_id": "5b8efff798038103d269b633813fc60c", "team": "support", "user_id": "u1",
        "project": "proj-a", "request_id": "chatcmpl-1", "input_tokens": 800, "cache_read_tokens": 200,
        "cache_write_tokens": 0, "output_tokens": 300, "reasoning_tokens": 100, "is_batch": True, "status": "ok",
        "outcome": "success", "latency_ms": 1500.0,
    },
    {  # span C: gen_ai.system aws.bedrock, prompt/completion tokens, status code 2, explicit run id
        "event_time": datetime(2024, 6, 1, 0, 0, 3), "provider": "aws",
        "raw_model": "anthropic.claude-3-haiku-20240307-v1:0", "task": "unattributed", "run_id": "run-7",
        "team": "research", "user_id": "u2", "project": "proj-a", "request_id": None, "input_tokens": 50,
        "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 20, "reasoning_tokens": 0,
        "is_batch": False, "status": "error", "outcome": None, "latency_ms": 40.0,
    },
    {  # flat: 500 - 100 read - 450 written would be negative -> 0; error.type makes it an error
        "event_time": datetime(2024, 6, 1, 0, 0, 5), "provider": "anthropic", "raw_model": "claude-sonnet-4-20250514",
        "task": "classify", "run_id": "1111", "team": "ops", "user_id": None, "project": None, "request_id": None,
        "input_tokens": 0, "cache_read_tokens": 100, "cache_write_tokens": 450, "output_tokens": 40,
        "reasoning_tokens": 0, "is_batch": False, "status": "error", "outcome": "failure", "latency_ms": 250.0,
    },
    {  # flat, older shape: context.trace_id, +02:00 times, counts as strings, gcp.vertex_ai -> google
        "event_time": datetime(2024, 6, 1, 0, 0, 10), "provider": "google", "raw_model": "gemini-2.5-flash",
        "task": "unattributed", "run_id": "0xcccc", "team": None, "user_id": None, "project": None,
        "request_id": None, "input_tokens": 10, "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 5,
        "reasoning_tokens": 0, "is_batch": False, "status": "ok", "outcome": None, "latency_ms": 1000.0,
    },
]


def _check_fixture_rows(frame: pl.DataFrame, path: str) -> None:
    assert dict(frame.schema) == USAGE_EVENTS
    rows = frame.to_dicts()
    assert len(rows) == len(EXPECTED)
    for got, want in zip(rows, EXPECTED):
        assert {k: got[k] for k in want} == want
        assert got["request_count"] == 1
        assert got["cost_usd"] is None and got["price_source"] is None
        assert got["x_source"] == "otel_test" and got["x_source_file"] == path
    # model follows the shared normalization contract, whatever pricing makes of it
    expected_models = pl.DataFrame(EXPECTED).select(
        normalize_model(pl.col("provider"), pl.col("raw_model")).alias("model")
    )["model"]
    assert frame["model"].to_list() == expected_models.to_list()


def test_registry_names_otel():
    assert spec("otel_genai").read is otel_genai.read


def test_both_shapes_old_and_new_names():
    _check_fixture_rows(otel_genai.read(str(FIXTURE), SOURCE), str(FIXTURE))


def test_gzipped_file(tmp_path):
    path = tmp_path / "spans.jsonl.gz"
    path.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    _check_fixture_rows(otel_genai.read(str(path), SOURCE), str(path))


def test_attribute_names_come_from_options(tmp_path):
    record = {
        "name": "chat", "trace_id": "t1", "start_time": "2024-06-01T00:00:00Z", "end_time": "2024-06-01T00:00:01Z",
        "attributes": {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
                       "app.job": "triage", "app.squad": "blue", "app.verdict": "FAILURE", "aispend.task": "ignored"},
        "resource": {"attributes": {}}, "status": {"status_code": "UNSET"},
    }
    path = tmp_path / "opts.json"
    path.write_text(json.dumps(record) + "\n")
    options = {"task_attribute": "app.job", "team_attribute": "app.squad", "outcome_attribute": "app.verdict"}
    frame = otel_genai.read(str(path), with_options(SOURCE, options))
    assert frame.select("task", "team", "outcome", "run_id").row(0) == ("triage", "blue", "failure", "t1")


def test_file_without_genai_spans_is_empty(tmp_path):
    path = tmp_path / "http.jsonl"
    path.write_text(FIXTURE.read_text().splitlines()[4] + "\n")
    frame = otel_genai.read(str(path), SOURCE)
    assert frame.height == 0 and dict(frame.schema) == USAGE_EVENTS


def _flat(**attrs) -> str:
    record = {"name": "chat", "trace_id": "t", "start_time": "2024-06-01T00:00:00Z",
              "end_time": "2024-06-01T00:00:01Z", "status": {"status_code": "OK"},
              "attributes": {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o", **attrs}}
    return json.dumps(record)


def _otlp_line(attrs: list[dict], start: str | None = "1717200000000000000") -> str:
    span = {"traceId": "ab", "spanId": "cd", "name": "chat", "endTimeUnixNano": "1717200001000000000",
            "attributes": [{"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}}, *attrs]}
    if start is not None:
        span["startTimeUnixNano"] = start
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]})


GOOD = _flat()


@pytest.mark.parametrize(
    ("lines", "where"),
    [
        ([GOOD, GOOD, "{not json"], "line 3"),
        ([GOOD, "plain text line"], "line 2"),
        ([GOOD, _flat(**{"gen_ai.usage.input_tokens": -5})], "line 2, column 'gen_ai.usage.input_tokens'"),
        ([_flat(**{"gen_ai.usage.output_tokens": "many"})], "line 1, column 'gen_ai.usage.output_tokens'"),
        ([GOOD, _flat(**{"gen_ai.usage.prompt_tokens": 12.5})], "line 2, column 'gen_ai.usage.prompt_tokens'"),
        ([GOOD, _otlp_line([{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "-1"}}])],
         "line 2, column 'gen_ai.usage.input_tokens'"),
        ([_otlp_line([], start=None)], "line 1, column 'start_time'"),
        ([GOOD, _flat().replace('"start_time": "2024-06-01T00:00:00Z", ', "")], "line 2, column 'start_time'"),
        ([_flat().replace("2024-06-01T00:00:00Z", "soon")], "line 1, column 'start_time'"),
    ],
)
@pytest.mark.parametrize("slice_bytes", [otel_genai.SLICE_BYTES, 1])
def test_bad_input_is_refused(tmp_path, monkeypatch, lines, where, slice_bytes):
    monkeypatch.setattr(otel_genai, "SLICE_BYTES", slice_bytes)  # 1: every line a slice of its own
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError) as caught:
        otel_genai.read(str(path), SOURCE)
    assert str(caught.value).startswith(str(path))
    assert where in str(caught.value)


@pytest.mark.parametrize("slice_bytes", [1, 700, 5000])
def test_a_file_read_in_slices_gives_the_same_events(monkeypatch, slice_bytes):
    """A large file is decoded a slice of lines at a time (memory); the events are those of one pass."""
    whole = otel_genai.read(str(FIXTURE), SOURCE)
    monkeypatch.setattr(otel_genai, "SLICE_BYTES", slice_bytes)
    assert len(otel_genai._slices(otel_genai._lines(str(FIXTURE)))) > (1 if slice_bytes < 5000 else 0)
    assert_frame_equal(otel_genai.read(str(FIXTURE), SOURCE), whole)


def test_truncated_gzip_is_refused(tmp_path):
    whole = gzip.compress(((GOOD + "\n") * 2000).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SourceError, match="gzip"):
        otel_genai.read(str(path), SOURCE)
