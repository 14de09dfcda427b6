"""Bad values, for every file kind with a fixture: each refused whole with file, row, column and what was
expected, on one line, while the good file of the same source loads and its totals are what its rows say.

Cases: non-finite and absurd numbers (item "Infinity and absurd values"), dates outside the load window, a
repeated column, invalid UTF-8, a header-only re-delivery, a copy of a loaded file inside the source. Expected
totals come from the fixture's own cells (tests/faults/kinds.py), not from the reader.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.config import load_config
from pipelines.loads import load_prices, load_table
from pipelines.sources import specs
from tests.faults.kinds import BAD_DAY, FIXTURES, GOOD_DAY, config_text
from warehouse.db import connect_writer, query

# Every kind that reads files; one without a fixture in tests/faults/kinds.py is skipped, saying so.
KINDS = sorted(k for k, s in specs().items() if s.needs_path)


def setup(tmp_path: Path, kind: str, **options):
    if kind not in FIXTURES:
        pytest.skip(f"no fixture for kind {kind} in tests/faults/kinds.py (the fixture-free cases cover it)")
    fixture = FIXTURES[kind]
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    source = fixture.source("src", folder)
    source["options"].update(options)
    (tmp_path / "aispend.yaml").write_text(config_text([source]))
    return fixture, folder, load_config(tmp_path / "aispend.yaml")


def load(config, table: str) -> dict[str, tuple[str, str | None]]:
    con = connect_writer(config.warehouse_path)
    try:
        if table == "usage_events":
            load_prices(con, config)
        return {r.location: (r.status, r.error) for r in load_table(con, config, table)}
    finally:
        con.close()


def held(config, fixture) -> tuple[int, float]:
    """Rows in the table, and the sum of the figure the fixture varies (billed cost, input tokens, minutes; 0 for
    a kind without one)."""
    figure = f'sum("{fixture.column}")' if fixture.column else "0"
    con = connect_writer(config.warehouse_path)
    try:
        n, total = query(con, f"SELECT count(*) AS n, {figure} AS s FROM {fixture.table}").row(0)
        return n, total or 0.0
    finally:
        con.close()


def good_totals(fixture) -> tuple[int, float]:
    """Rows the good file holds (a people entry is a row per identity) and its figure, from its own cells."""
    rows = fixture.rows(GOOD_DAY)
    n = sum(r.get("email", "").count("@") + ("github" in r) for r in rows) if fixture.table == "people" else len(rows)
    if fixture.amount is None:
        return n, 0.0
    return n, sum(float(r[fixture.amount]) * fixture.scale for r in rows)


def the_bad_one(results: dict, fixture) -> str:
    bad = [(status, error) for key, (status, error) in results.items() if fixture.marker(BAD_DAY) in key]
    assert len(bad) == 1, results
    status, error = bad[0]
    assert status == "quarantined", results
    assert error and "\n" not in error, error   # one line
    return error


def with_cell(fixture, field: str, value: str) -> list[dict]:
    rows = fixture.rows(BAD_DAY)
    rows[1] = {**rows[1], field: value}        # the second row: the refusal must say row (or line) 2
    return rows


# What the reason says (a regular expression over the reason, the file's path left out): a count read as a whole
# number says so, any other figure that it must be finite; an absurd one gives the range it must fall in.
NOT_FINITE = r"finite number|whole number"
AMOUNTS = [("Infinity", NOT_FINITE), ("-Infinity", NOT_FINITE), ("NaN", NOT_FINITE), ("1e30", r"from .* to ")]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("value", "says"), AMOUNTS)
def test_non_finite_and_absurd_amounts_are_refused_with_row_and_column(tmp_path, kind, value, says):
    fixture, folder, config = setup(tmp_path, kind)
    fixture.skip("amount")
    fixture.write(folder, GOOD_DAY)
    fixture.write(folder, BAD_DAY, with_cell(fixture, fixture.amount, value))
    error = the_bad_one(load(config, fixture.table), fixture)
    assert fixture.name(BAD_DAY).rsplit("/", 1)[-1] in error
    assert f"{fixture.unit} {fixture.numbered(2)}," in error
    assert f"column '{fixture.reported[fixture.amount]}'" in error
    assert re.search(says, error.replace(str(tmp_path), "")), error
    assert held(config, fixture) == pytest.approx(good_totals(fixture))


@pytest.mark.parametrize("kind", [k for k in KINDS if k in FIXTURES and FIXTURES[k].table == "usage_events"])
@pytest.mark.parametrize("value", ["-5", "2.5"])
def test_token_counts_must_be_whole_and_not_negative(tmp_path, kind, value):
    fixture, folder, config = setup(tmp_path, kind)
    fixture.write(folder, GOOD_DAY)
    fixture.write(folder, BAD_DAY, with_cell(fixture, fixture.amount, value))
    error = the_bad_one(load(config, fixture.table), fixture)
    assert f"{fixture.unit} {fixture.numbered(2)}," in error and "whole number from 0" in error
    assert held(config, fixture) == pytest.approx(good_totals(fixture))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("moment", ["9999-12-31T00:00:00Z", "1970-01-01T00:00:00Z"])
def test_dates_outside_the_load_window_are_refused_with_the_row(tmp_path, kind, moment):
    """The load window is 2000-01-01 .. today + 2 days (pipelines/sources/bounds.py): 9999-12-31 used to
    overflow a later mart's day range after its rows were written; a zero timestamp reads as 1970. A kind whose
    dates are calendar dates (a person's mapping, a seat) takes 1970 and refuses what no calendar means."""
    fixture, folder, config = setup(tmp_path, kind)
    fixture.write(folder, GOOD_DAY)
    fixture.write(folder, BAD_DAY, with_cell(fixture, fixture.time, fixture.time_text(moment)))
    results = load(config, fixture.table)
    if fixture.calendar and moment.startswith("1970"):
        assert {s for s, _ in results.values()} == {"loaded"}, results
        return
    error = the_bad_one(results, fixture)
    assert f"{fixture.unit} {fixture.numbered(2)}," in error
    assert f"column '{fixture.reported[fixture.time]}'" in error
    assert moment[:10] in error and ("between 1900-01-01" if fixture.calendar else "between 2000-01-01") in error
    assert held(config, fixture) == pytest.approx(good_totals(fixture))


@pytest.mark.parametrize("kind", [k for k in KINDS if k in FIXTURES and FIXTURES[k].is_csv])
@pytest.mark.parametrize("spelling", ["same", "case"])
def test_a_repeated_column_is_refused_naming_it(tmp_path, kind, spelling):
    """Polars renames a repeated header (`BilledCost_duplicated_0`) and the second column was never read."""
    fixture, folder, config = setup(tmp_path, kind)
    fixture.write(folder, GOOD_DAY)
    text = fixture.body(fixture.rows(BAD_DAY)).decode()
    header, rest = text.split("\n", 1)
    second = fixture.amount if spelling == "same" else fixture.amount.lower()
    if spelling == "case" and kind == "aws_cur":
        pytest.skip("aws_cur matches CUR headers exactly (AWS writes one spelling); the same name twice is covered")
    if spelling == "case":
        fixture.skip("case")
    body = header + f",{second}\n" + "\n".join(line + ",9" for line in rest.strip().split("\n")) + "\n"
    fixture.write(folder, BAD_DAY, raw=body.encode())
    error = the_bad_one(load(config, fixture.table), fixture)
    assert "twice" in error and f"column '{second}'" in error
    assert held(config, fixture) == pytest.approx(good_totals(fixture))


@pytest.mark.parametrize("kind", [k for k in KINDS if k in FIXTURES and not FIXTURES[k].is_csv])
def test_a_key_written_twice_in_one_record_is_refused_naming_it(tmp_path, kind):
    """A JSON or YAML parser keeps one of two values of a key silently; the second row's time is written twice."""
    fixture, folder, config = setup(tmp_path, kind)
    fixture.write(folder, GOOD_DAY)
    body = fixture.body(fixture.rows(BAD_DAY)).decode()
    key, value = fixture.reported[fixture.time], fixture.rows(BAD_DAY)[1][fixture.time]
    written = [m.group(0) for m in re.finditer(rf'"{re.escape(key)}":\s*{re.escape(json.dumps(value))}'
                                               rf"|\b{re.escape(key)}: {re.escape(value)}\b", body)]
    assert len(written) == 1, written   # the second row's own cell, once
    fixture.write(folder, BAD_DAY, raw=body.replace(written[0], f"{written[0]}, {written[0]}").encode())
    error = the_bad_one(load(config, fixture.table), fixture)
    yaml = fixture.name(BAD_DAY).endswith(".yaml")   # YAML's loader knows lines, not entries
    where = f"line {fixture.line_of(2, body.encode())}" if yaml else f"{fixture.unit} {fixture.numbered(2)}"
    assert f"{where}, column '" in error and key in error and "twice" in error
    assert held(config, fixture) == pytest.approx(good_totals(fixture))


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_utf8_is_named_as_such_with_its_line(tmp_path, kind):
    fixture, folder, config = setup(tmp_path, kind)
    fixture.write(folder, GOOD_DAY)
    body = fixture.body(fixture.rows(BAD_DAY))
    lines = body.split(b"\n")
    bad_line = fixture.line_of(2, body)            # the second row: after the header in a CSV
    lines[bad_line - 1] = lines[bad_line - 1].replace(b"0", b"\xff", 1)
    fixture.write(folder, BAD_DAY, raw=b"\n".join(lines))
    error = the_bad_one(load(config, fixture.table), fixture)
    assert "not UTF-8" in error and f"line {bad_line}" in error and "fields" not in error
    assert held(config, fixture) == pytest.approx(good_totals(fixture))


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_redelivery_of_a_loaded_unit_is_refused_and_its_rows_stay(tmp_path, kind):
    """A header-only re-delivery used to replace a whole CUR billing period with nothing, exit 0."""
    fixture, folder, config = setup(tmp_path, kind)
    fixture.write(folder, BAD_DAY)
    assert {s for s, _ in load(config, fixture.table).values()} == {"loaded"}
    before = held(config, fixture)
    fixture.write(folder, BAD_DAY, raw=fixture.nothing())
    error = the_bad_one(load(config, fixture.table), fixture)
    assert "no rows" in error and "allow_empty" in error
    assert held(config, fixture) == before


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_first_delivery_loads_and_counts_held_rows_only_where_other_units_may_own_them(tmp_path, kind,
                                                                                                 monkeypatch):
    """A file never logged holds no rows (its rows and its ingest_log entry are written together), so an empty one
    loads without asking the warehouse; a CUR delivery owns its billing period, which an earlier delivery under
    another key may have filled, so it is still asked."""
    import pipelines.ingest as ingest

    fixture, folder, config = setup(tmp_path, kind)
    counted = []
    monkeypatch.setattr(ingest, "count_rows", lambda *a: counted.append(a) or 0)
    fixture.write(folder, BAD_DAY, raw=fixture.nothing())
    assert {s for s, _ in load(config, fixture.table).values()} == {"loaded"}
    assert held(config, fixture)[0] == 0
    assert len(counted) == (1 if kind == "aws_cur" else 0)


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_redelivery_replaces_when_the_source_allows_it(tmp_path, kind):
    fixture, folder, config = setup(tmp_path, kind, allow_empty=True)
    fixture.write(folder, BAD_DAY)
    load(config, fixture.table)
    fixture.write(folder, BAD_DAY, raw=fixture.nothing())
    assert {s for s, _ in load(config, fixture.table).values()} == {"replaced"}
    assert held(config, fixture)[0] == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_copy_inside_the_source_is_refused_not_counted_twice(tmp_path, kind):
    """A folder copied inside a source (`billing/2026-10` beside `billing/2026-10 copy`): the same bytes twice."""
    if kind == "aws_cur":
        pytest.skip("aws_cur: a copied export is a second export under one source, refused by its planner "
                    "(tests/sources/test_source_aws_cur.py::test_two_exports_under_one_source_are_refused)")
    fixture, folder, config = setup(tmp_path, kind)
    original = fixture.write(folder, GOOD_DAY)
    load(config, fixture.table)
    copy = folder / "copy" / original.relative_to(folder)
    copy.parent.mkdir(parents=True)
    copy.write_bytes(original.read_bytes())
    results = load(config, fixture.table)
    (status, error), = [v for k, v in results.items() if k.startswith("copy/")]
    assert status == "quarantined" and "a copy" in error
    assert f"same bytes as {fixture.key(original.relative_to(folder).as_posix())}," in error
    assert held(config, fixture) == pytest.approx(good_totals(fixture))
