"""The generic work-items kind: documented columns in CSV, CSV.gz, JSON lines and Parquet; strict refusals naming
file, row and column; and, through ingest, a bad file quarantined while what loaded before stays.

Expected values are worked out by hand from tests/fixtures/work/work_items.csv (see the comments)."""

from __future__ import annotations

import gzip
import json
import textwrap
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import SourceConfig, load_config
from pipelines.errors import SourceError
from pipelines.loads import load_table
from pipelines.schemas import WORK_ITEMS
from pipelines.sources import plan_units, spec, work_items
from warehouse.db import connect_writer

FIXTURE = Path(__file__).parents[1] / "fixtures" / "work" / "work_items.csv"
SOURCE = SourceConfig(name="work", kind="work_items", path="unused")
TASKS = frozenset({"contract_review", "triage"})

EXPECTED = [
    # BOM and mixed-case headers; ISO Z times; "yes" -> True; "no" -> False; the extra `title` column is ignored
    dict(work_item_id="DOC-1", task="contract_review", opened_at=datetime(2026, 10, 1, 9), closed_at=datetime(
        2026, 10, 1, 11, 30), handling_minutes=42.5, elapsed_minutes=None, ai_assisted=True, team="legal", person="ana", reopened=False,
         escalated=None, reverted=None, csat=5.0),
    # text without an offset is UTC; +02:00 is converted (12:00+02:00 = 10:00 UTC); blank ai_assisted stays NULL
    dict(work_item_id="DOC-2", task="contract_review", opened_at=datetime(2026, 10, 2, 8), closed_at=datetime(
        2026, 10, 2, 10), handling_minutes=None, elapsed_minutes=None, ai_assisted=None, team="legal", person="ben", reopened=None,
         escalated=None, reverted=None, csat=None),
    # still open: a bare opening date only
    dict(work_item_id="DOC-3", task="contract_review", opened_at=datetime(2026, 10, 5), closed_at=None,
         handling_minutes=None, elapsed_minutes=None, ai_assisted=None, team="legal", person=None, reopened=None, escalated=None,
         reverted=None, csat=None),
    # closed only; FALSE / TRUE / true / 0 spellings
    dict(work_item_id="DOC-4", task="contract_review", opened_at=None, closed_at=datetime(2026, 10, 6, 16),
         handling_minutes=30.0, elapsed_minutes=None, ai_assisted=False, team=None, person=None, reopened=True, escalated=True,
         reverted=False, csat=1.0),
]


def _rows(frame: pl.DataFrame) -> list[dict]:
    return frame.drop("x_source", "x_source_file").to_dicts()


def test_registry_names_the_kind_and_its_table():
    kind = spec("work_items")
    assert kind.table == "work_items" and kind.plan is not None


def test_reads_the_documented_columns():
    frame = work_items.read(str(FIXTURE), SOURCE, tasks=TASKS)
    assert frame.schema == pl.Schema(WORK_ITEMS)
    assert _rows(frame) == EXPECTED
    assert set(frame["x_source"]) == {"work"}


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_csv_gz_json_lines_and_parquet_read_alike(tmp_path):
    typed = work_items.read(str(FIXTURE), SOURCE, tasks=TASKS).drop("x_source", "x_source_file")
    gz = tmp_path / "items.csv.gz"
    gz.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    lines = tmp_path / "items.jsonl"
    lines.write_text("\n".join(json.dumps({k: v for k, v in r.items() if v is not None})
                               for r in _as_text(typed).to_dicts()) + "\n")
    parquet = tmp_path / "items.parquet"
    # Parquet keeps types: times tz-aware here, which must come out as naive UTC
    typed.with_columns(pl.col("opened_at", "closed_at").dt.replace_time_zone("UTC")
                       .dt.convert_time_zone("Europe/Paris")).write_parquet(parquet)
    for path in (gz, lines, parquet):
        assert _rows(work_items.read(str(path), SOURCE, tasks=TASKS)) == EXPECTED, path.name


BAD = {
    # a blank task on the third data row
    "missing task": ("work_item_id,task,closed_at\nA,triage,2026-10-01\nB,triage,2026-10-02\nC,,2026-10-03\n",
                     3, "task", "missing task"),
    "text in handling_minutes": ("work_item_id,task,closed_at,handling_minutes\nA,triage,2026-10-01,12\n"
                                 "B,triage,2026-10-02,about 20\n", 2, "handling_minutes", "not a number: 'about 20'"),
    "unknown task id": ("work_item_id,task,closed_at\nA,triage,2026-10-01\nB,triaj,2026-10-02\n", 2, "task",
                        "unknown task 'triaj': not in the task catalog"),
    "duplicate id": ("work_item_id,task,closed_at\nA,triage,2026-10-01\nA,triage,2026-10-02\n", 2, "work_item_id",
                     "duplicate work item id 'A'"),
    "closed before opened": ("work_item_id,task,opened_at,closed_at\nA,triage,2026-10-02,2026-10-01\n", 1,
                             "closed_at", "closed before it was opened"),
    "no date": ("work_item_id,task,handling_minutes\nA,triage,12\n", 1, "closed_at", "no date"),
    "bad boolean": ("work_item_id,task,closed_at,ai_assisted\nA,triage,2026-10-01,maybe\n", 1, "ai_assisted",
                    "not true or false: 'maybe'"),
    "csat out of range": ("work_item_id,task,closed_at,csat\nA,triage,2026-10-01,7\n", 1, "csat", "between 1 and 5"),
    "negative minutes": ("work_item_id,task,closed_at,handling_minutes\nA,triage,2026-10-01,-3\n", 1,
                         "handling_minutes", ">= 0"),
    "bad time": ("work_item_id,task,closed_at\nA,triage,yesterday\n", 1, "closed_at", "not a timestamp: 'yesterday'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_rows_are_refused_naming_file_row_and_column(tmp_path, case):
    text, row, column, reason = BAD[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(SourceError) as err:
        work_items.read(str(path), SOURCE, tasks=TASKS)
    assert (err.value.row, err.value.column) == (row, column)
    assert reason in err.value.reason and str(path) in err.value.message


def test_a_missing_task_column_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("work_item_id,closed_at\nA,2026-10-01\n")
    with pytest.raises(SourceError, match="missing required column.*task") as err:
        work_items.read(str(path), SOURCE, tasks=TASKS)
    assert err.value.column == "task"


def _project(tmp_path: Path, catalog: str = "triage") -> Path:
    (tmp_path / "work").mkdir(exist_ok=True)
    tasks = "".join(f"  - {{task: {t}, human_minutes: 10, hourly_rate_usd: 60}}\n" for t in catalog.split(","))
    (tmp_path / "tasks.yaml").write_text("tasks:\n" + tasks)
    (tmp_path / "aispend.yaml").write_text(textwrap.dedent("""
        warehouse: wh/aispend.duckdb
        task_catalog: tasks.yaml
        sources:
          - {name: work, kind: work_items, path: "work/*.csv"}
    """))
    return tmp_path / "aispend.yaml"


def test_a_bad_file_is_quarantined_and_what_loaded_before_stays(tmp_path):
    config_path = _project(tmp_path)
    items = tmp_path / "work" / "items.csv"
    items.write_text("work_item_id,task,closed_at,handling_minutes\nA,triage,2026-10-01,12\nB,triage,2026-10-02,8\n")
    config = load_config(config_path)
    con = connect_writer(config.warehouse_path)
    [first] = load_table(con, config, "work_items")
    assert (first.status, first.rows) == ("loaded", 2)

    # the same file, now with each of the three faults the issue names: only the first is reported
    for text, where in [
        ("work_item_id,task,closed_at,handling_minutes\nA,triage,2026-10-01,12\nB,,2026-10-02,8\n",
         "row 2, column 'task': missing task"),
        ("work_item_id,task,closed_at,handling_minutes\nA,triage,2026-10-01,twelve\n",
         "row 1, column 'handling_minutes': not a number: 'twelve'"),
        ("work_item_id,task,closed_at,handling_minutes\nA,triage,2026-10-01,12\nB,summarise,2026-10-02,8\n",
         "row 2, column 'task': unknown task 'summarise'"),
    ]:
        items.write_text(text)
        [result] = load_table(con, config, "work_items")
        assert result.status == "quarantined"
        status, error = con.sql("SELECT status, error FROM ingest_log WHERE source = 'work' "
                                "ORDER BY loaded_at DESC, rowid DESC LIMIT 1").fetchone()
        assert status == "quarantined" and error.startswith(str(items)) and where in error
        # nothing of the bad file, everything of the good one
        assert con.sql("SELECT list(work_item_id ORDER BY work_item_id), sum(handling_minutes) FROM work_items"
                       ).fetchone() == (["A", "B"], 20.0)
    con.close()


def test_a_catalog_change_rereads_the_work_items(tmp_path):
    """A unit's fingerprint carries the catalog's task ids: a task added to the catalog lets a refused file in."""
    config_path = _project(tmp_path)
    (tmp_path / "work" / "items.csv").write_text("work_item_id,task,closed_at\nA,triage,2026-10-01\n"
                                                 "B,review,2026-10-02\n")
    config = load_config(config_path)
    con = connect_writer(config.warehouse_path)
    assert [r.status for r in load_table(con, config, "work_items")] == ["quarantined"]
    _project(tmp_path, "triage,review")
    config = load_config(config_path)
    assert [(r.status, r.rows) for r in load_table(con, config, "work_items")] == [("loaded", 2)]
    assert [r.status for r in load_table(con, config, "work_items")] == ["unchanged"]
    con.close()


def test_without_a_catalog_task_ids_are_not_checked(tmp_path):
    (tmp_path / "items.csv").write_text("work_item_id,task,closed_at\nA,anything,2026-10-01\n")
    (tmp_path / "aispend.yaml").write_text("sources:\n  - {name: work, kind: work_items, path: items.csv}\n")
    config = load_config(tmp_path / "aispend.yaml")
    [unit] = plan_units(config, config.sources[0])
    assert unit.load()["task"].to_list() == ["anything"]
    assert unit.fingerprint().endswith(":tasks:none")
