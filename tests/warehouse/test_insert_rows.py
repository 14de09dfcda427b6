"""insert_rows stores a frame's rows as they are and in their order, however many chunks the frame is in (a batch
of units is one chunk per unit) and however they fall on DuckDB's row groups (it cuts them on those)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from warehouse.db import ROW_GROUP_ROWS, SMALL_CHUNK_ROWS, compacted, connect_writer, insert_rows


@pytest.mark.parametrize("rows_per_chunk", [7, SMALL_CHUNK_ROWS - 1, SMALL_CHUNK_ROWS, 3 * SMALL_CHUNK_ROWS])
def test_rows_in_any_number_of_chunks_are_stored_as_they_are(tmp_path, rows_per_chunk):
    n = 4 * SMALL_CHUNK_ROWS + 3
    whole = pl.DataFrame({"currency": [f"C{i % 97}" for i in range(n)],
                          "day": pl.date_range(pl.date(2000, 1, 1), pl.date(2000, 1, 1), eager=True).gather([0] * n),
                          "rate": [i / 7 for i in range(n)], "reporting_currency": "USD", "source": "test"})
    chunks = pl.concat([whole.slice(i, rows_per_chunk) for i in range(0, n, rows_per_chunk)], rechunk=False)
    assert chunks.n_chunks() == -(-n // rows_per_chunk)
    con = connect_writer(tmp_path / "w.duckdb")
    try:
        con.execute("DELETE FROM fx_rates")
        assert insert_rows(con, "fx_rates", chunks) == n
        stored = con.execute("SELECT currency, day, rate, reporting_currency, source FROM fx_rates").pl()
    finally:
        con.close()
    assert_frame_equal(stored.sort("rate"), whole.sort("rate"), check_dtypes=False)


@pytest.mark.parametrize("rows_per_chunk", [83_000, ROW_GROUP_ROWS, ROW_GROUP_ROWS + 1])
def test_rows_keep_their_order_across_row_groups(tmp_path, rows_per_chunk):
    n = 3 * ROW_GROUP_ROWS + 5
    whole = pl.DataFrame({"currency": "EUR", "day": date(2000, 1, 1), "rate": pl.arange(0, n, eager=True) / 7,
                          "reporting_currency": "USD", "source": "test"})
    chunks = pl.concat([whole.slice(i, rows_per_chunk) for i in range(0, n, rows_per_chunk)], rechunk=False)
    con = connect_writer(tmp_path / "w.duckdb")
    try:
        con.execute("DELETE FROM fx_rates")
        insert_rows(con, "fx_rates", chunks)
        insert_rows(con, "fx_rates", chunks.head(ROW_GROUP_ROWS - 2))
        stored = con.execute("SELECT rate FROM fx_rates ORDER BY rowid").pl()
    finally:
        con.close()
    expected = pl.concat([whole.select("rate"), whole.select("rate").head(ROW_GROUP_ROWS - 2)])
    assert_frame_equal(stored, expected, check_dtypes=False)


def test_only_a_frame_of_small_chunks_is_copied_into_one():
    frame = pl.DataFrame({"a": list(range(4 * SMALL_CHUNK_ROWS))})
    small = pl.concat([frame.slice(i, 100) for i in range(0, frame.height, 100)], rechunk=False)
    large = pl.concat([frame.slice(i, SMALL_CHUNK_ROWS) for i in range(0, frame.height, SMALL_CHUNK_ROWS)],
                      rechunk=False)
    assert compacted(small).n_chunks() == 1 and compacted(large).n_chunks() == 4
    assert_frame_equal(compacted(small), frame) and compacted(frame) is frame
