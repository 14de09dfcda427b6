"""The simple usage CSV: the documented columns, defaults, and strict refusals naming row and column.

Expected values are hand-computed from tests/fixtures/usage/usage_simple.csv (four rows; see the comments),
and the token totals are checked again with plain DuckDB SQL over the file."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.models import normalize_model
from pipelines.schemas import USAGE_EVENTS
from pipelines.sources import usage_csv, spec

FIXTURE = Path(__file__).parents[1] / "fixtures" / "usage" / "usage_simple.csv"
SOURCE = SourceConfig(name="manual", kind="usage_csv", path="unused")

EXPECTED = [
    {  # every column given; blank cache_write and reasoning -> 0; header "Timestamp" matched case-insensitively
        "event_time": datetime(2025, 4, 1, 9, 0, 0), "provider": "openai", "raw_model": "gpt-4o-mini",
        "task": "summarize_ticket", "team": "support", "run_id": "run-1", "user_id": "alice", "project": "helpdesk",
        "request_id": "req-1", "request_count": 1, "input_tokens": 1200, "cache_read_tokens": 800,
        "cache_write_tokens": 0, "output_tokens": 300, "reasoning_tokens": 0, "is_batch": False,
        "service_tier": "default", "status": "ok", "outcome": None, "latency_ms": 850.5,
    },
    {  # "OpenAI" -> openai, "400.0" is a whole number, blank request_count -> 1, blank is_batch -> false
        "event_time": datetime(2025, 4, 1, 9, 0, 2), "provider": "openai", "raw_model": "gpt-4o-mini-2024-07-18",
        "task": "summarize_ticket", "team": "support", "run_id": "run-1", "user_id": "alice", "project": "helpdesk",
        "request_id": "req-2", "request_count": 1, "input_tokens": 400, "cache_read_tokens": 0,
        "cache_write_tokens": 0, "output_tokens": 90, "reasoning_tokens": 0, "is_batch": False,
        "service_tier": None, "status": "ok", "outcome": "success", "latency_ms": None,
    },
    {  # +02:00 -> 09:30 UTC; status error, outcome failure
        "event_time": datetime(2025, 4, 1, 9, 30, 0), "provider": "anthropic", "raw_model": "claude-3-5-haiku-20241022",
        "task": "draft_reply", "team": "sales", "run_id": None, "user_id": "bob", "project": None,
        "request_id": None, "request_count": 1, "input_tokens": 50, "cache_read_tokens": 4000,
        "cache_write_tokens": 1000, "output_tokens": 700, "reasoning_tokens": 0, "is_batch": False,
        "service_tier": None, "status": "error", "outcome": "failure", "latency_ms": 12000.0,
    },
    {  # a bare date; an aggregate of 40 requests; no task -> unattributed; TRUE -> batch
        "event_time": datetime(2025, 4, 2), "provider": "aws", "raw_model": "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "task": "unattributed", "team": "research", "run_id": None, "user_id": None, "project": None,
        "request_id": None, "request_count": 40, "input_tokens": 25000, "cache_read_tokens": 0,
        "cache_write_tokens": 0, "output_tokens": 6000, "reasoning_tokens": 2000, "is_batch": True,
        "service_tier": "flex", "status": "ok", "outcome": None, "latency_ms": None,
    },
]


def test_registry_names_usage_csv():
    assert spec("usage_csv").read is usage_csv.read


def test_fixture_rows():
    frame = usage_csv.read(str(FIXTURE), SOURCE)
    assert dict(frame.schema) == USAGE_EVENTS
    rows = frame.to_dicts()
    assert [{k: r[k] for k in EXPECTED[0]} for r in rows] == EXPECTED
    assert all(r["cost_usd"] is None and r["x_source"] == "manual" and r["x_source_file"] == str(FIXTURE) for r in rows)
    models = pl.DataFrame(EXPECTED).select(normalize_model(pl.col("provider"), pl.col("raw_model")).alias("m"))["m"]
    assert frame["model"].to_list() == models.to_list()


def test_totals_match_plain_sql():
    frame = usage_csv.read(str(FIXTURE), SOURCE)
    expected = duckdb.sql(
        "SELECT sum(input_tokens)::BIGINT, sum(output_tokens)::BIGINT, sum(coalesce(cache_read_tokens, 0))::BIGINT, "
        "sum(coalesce(cache_write_tokens, 0))::BIGINT, sum(coalesce(request_count, 1))::BIGINT "
        "FROM read_csv(?, header=true)", params=[str(FIXTURE)],
    ).fetchone()
    got = tuple(int(frame[c].sum()) for c in ["input_tokens", "output_tokens", "cache_read_tokens",
                                               "cache_write_tokens", "request_count"])
    assert got == expected == (26650, 7090, 4800, 1000, 43)


def test_minimal_columns_bom_and_gzip():
    data = b"\xef\xbb\xbftimestamp,provider,model,input_tokens,output_tokens\n2025-01-01T00:00:00Z,google,gemini-2.5-flash,10,5\n"
    row = usage_csv.read("m.csv.gz", SOURCE, data=gzip.compress(data)).to_dicts()[0]
    assert (row["provider"], row["input_tokens"], row["output_tokens"], row["request_count"], row["task"],
            row["status"], row["is_batch"]) == ("google", 10, 5, 1, "unattributed", "ok", False)


def _replace(row: int, column: str, value: str) -> bytes:
    """The fixture with one cell changed (row 1-based, header excluded)."""
    lines = FIXTURE.read_text().splitlines()
    header = lines[0].split(",")
    import csv
    import io

    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    index = [h.lower() for h in header].index(column)
    rows[row][index] = value
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"timestamp,provider,model,output_tokens\n", r"column 'input_tokens': missing required column\(s\): input_tokens"),
        (_replace(2, "input_tokens", "many"), r"row 2, column 'input_tokens': not a number: 'many'"),
        (_replace(3, "cache_read_tokens", "1,000"), r"row 3, column 'cache_read_tokens': not a number: '1,000'"),
        (_replace(1, "output_tokens", "2.5"), r"row 1, column 'output_tokens': '2.5' is not a whole number from 0 to 1e13"),
        (_replace(4, "reasoning_tokens", "-1"), r"row 4, column 'reasoning_tokens': '-1' is not a whole number from 0"),
        (_replace(2, "request_count", "0"), r"row 2, column 'request_count': request_count must be at least 1"),
        (_replace(3, "timestamp", "01/04/2025"), r"row 3, column 'timestamp': not a timestamp: '01/04/2025'"),
        (_replace(1, "status", "partial"), r"row 1, column 'status': unknown status 'partial'"),
        (_replace(1, "outcome", "meh"), r"row 1, column 'outcome': unknown outcome 'meh'"),
        (_replace(2, "is_batch", "maybe"), r"row 2, column 'is_batch': not true or false: 'maybe'"),
        (_replace(4, "model", ""), r"row 4, column 'model': required value is blank"),
        (_replace(1, "input_tokens", "inf"), r"row 1, column 'input_tokens': 'inf' is not a whole number"),
        (b"", r"empty file"),
        (b"timestamp,provider,model,input_tokens,output_tokens,INPUT_TOKENS\n", r"column 'INPUT_TOKENS': the header holds column input_tokens and INPUT_TOKENS twice"),
    ],
)
def test_refused_input_names_row_and_column(data, expected):
    with pytest.raises(SourceError, match=expected):
        usage_csv.read("usage.csv", SOURCE, data=data)
