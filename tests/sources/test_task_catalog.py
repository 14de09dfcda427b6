"""Task catalog: YAML (mapping or bare list) and CSV give the same table; bad entries are named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.errors import SourceError
from pipelines.schemas import TASKS
from pipelines.sources.task_catalog import read_task_catalog

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sources"

# Written out by hand from the fixture files, with the documented defaults for draft_reply.
EXPECTED = pl.DataFrame(
    {
        "task": ["summarize_ticket", "draft_reply"],
        "description": ["Summarize a support ticket for the next agent", None],
        "human_minutes": [6.0, 12.5],
        "hourly_rate_usd": [45.0, 45.0],
        "review_minutes": [0.5, 0.0],
        "latency_sensitive": [False, True],
        "eligible_models": [["gpt-4o-mini", "claude-3-5-haiku"], None],
    },
    schema=TASKS,
)


@pytest.mark.parametrize("name", ["tasks.yaml", "tasks.csv"])
def test_catalog_files(name):
    assert_frame_equal(read_task_catalog(str(FIXTURES / name)), EXPECTED)


def test_bare_yaml_list(tmp_path):
    path = tmp_path / "bare.yml"
    mapping = (FIXTURES / "tasks.yaml").read_text()
    path.write_text(textwrap.dedent(mapping.removeprefix("tasks:\n")))
    assert_frame_equal(read_task_catalog(str(path)), EXPECTED)


def test_empty_catalog(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("tasks: []\n")
    frame = read_task_catalog(str(path))
    assert frame.height == 0 and dict(frame.schema) == TASKS


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("- {human_minutes: 5, hourly_rate_usd: 40}", "entry 1: missing task name"),
        ("- {task: a, human_minutes: 5, hourly_rate_usd: 40}\n- {task: a, human_minutes: 1, hourly_rate_usd: 1}",
         "entry 2: duplicate task 'a'"),
        ("- {task: a, human_minutes: -5, hourly_rate_usd: 40}", "entry 1 (task 'a'): human_minutes must not be negative"),
        ("- {task: a, human_minutes: five, hourly_rate_usd: 40}", "entry 1 (task 'a'): human_minutes must be a number"),
        ("- {task: a, human_minutes: 5, hourly_rate_usd: lots}", "hourly_rate_usd must be a number"),
        ("- {task: a, human_minutes: 5, hourly_rate_usd: 40, review_minutes: -1}", "review_minutes must not be negative"),
        ("- {task: a, human_minutes: 5}", "entry 1 (task 'a'): missing hourly_rate_usd"),
        ("- {task: a, human_minutes: 5, hourly_rate_usd: 40, latency_sensitive: maybe}", "latency_sensitive"),
        ("- {task: a, human_minute: 5, hourly_rate_usd: 40}", "unknown field(s) human_minute"),
    ],
)
def test_bad_yaml_entries(tmp_path, entries, message):
    path = tmp_path / "bad.yaml"
    path.write_text(entries + "\n")
    with pytest.raises(SourceError) as caught:
        read_task_catalog(str(path))
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_bad_csv_entry_names_the_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("task,human_minutes,hourly_rate_usd\na,5,40\nb,-2,40\n")
    with pytest.raises(SourceError, match=r"row 2, column 'human_minutes': entry 2 \(task 'b'\)"):
        read_task_catalog(str(path))


def test_unreadable_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("tasks: [\n")
    with pytest.raises(SourceError, match="not valid YAML"):
        read_task_catalog(str(path))
