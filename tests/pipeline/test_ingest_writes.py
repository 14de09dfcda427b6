"""How a unit's rows are written: a first load inserts without deleting, a re-load replaces exactly the unit's
rows, and a unit owning a wider slice than its key (a CUR billing period) always replaces that slice.

Expected rows are written out by hand below; the statements a write ran are recorded by a thin proxy around the
connection, so the skipped DELETE is seen directly rather than inferred from timings.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest
import polars as pl

from pipelines.config import SourceConfig
from pipelines.ingest import _Batch, _write_units
from pipelines.schemas import COST_LINES, USAGE_EVENTS, conform
from pipelines.sources.units import Unit
from warehouse.db import Warehouse


class Recording:
    """A DuckDB connection that remembers the SQL it was asked to run."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con, self.statements = con, []

    def execute(self, statement, *args, **kwargs):
        self.statements.append(" ".join(statement.split()))
        return self.con.execute(statement, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.con, name)

    def deletes(self) -> list[str]:
        return [s for s in self.statements if s.upper().startswith("DELETE")]


def events(key: str, days: list[int]) -> pl.DataFrame:
    n = len(days)
    return conform(pl.DataFrame({
        "event_time": [datetime(2026, 11, d, 9) for d in days], "provider": ["openai"] * n, "model": ["gpt-4o"] * n,
        "raw_model": ["gpt-4o"] * n, "task": ["t"] * n, "request_count": [1] * n, "input_tokens": [10] * n,
        "cache_read_tokens": [0] * n, "cache_write_tokens": [0] * n, "output_tokens": [1] * n,
        "reasoning_tokens": [0] * n, "is_batch": [False] * n, "status": ["ok"] * n, "x_source": ["logs"] * n,
        "x_source_file": [key] * n}), USAGE_EVENTS)


def file_unit(key: str) -> Unit:
    return Unit(key, key, lambda: None, lambda: None, {"x_source": "logs", "x_source_file": key}, None)


def write(db: Warehouse, source: SourceConfig, unit: Unit, frame: pl.DataFrame, checksum: str) -> tuple[str, list]:
    with db.connect() as con:
        recording = Recording(con)
        status = _write_units(recording, source, [(unit, checksum, frame)], None)[unit.key]
    return status, recording.deletes()


def test_a_first_load_inserts_without_deleting_and_a_reload_replaces_only_its_rows(tmp_path):
    db = Warehouse(tmp_path / "wh.duckdb")
    source = SourceConfig(name="logs", kind="usage_csv", path="x")
    a, b = file_unit("a.csv"), file_unit("b.csv")

    assert write(db, source, a, events("a.csv", [2, 3]), "a1") == ("loaded", [])
    assert write(db, source, b, events("b.csv", [3]), "b1") == ("loaded", [])
    status, deletes = write(db, source, a, events("a.csv", [5]), "a2")  # a.csv changed: now one row on the 5th
    assert status == "replaced" and len(deletes) == 1

    with db.connect() as con:
        rows = con.execute("SELECT x_source_file, CAST(event_time AS DATE) FROM usage_events ORDER BY 1, 2").fetchall()
        changed = con.execute("SELECT location, first_day, last_day FROM changed_days ORDER BY id").fetchall()
    # a.csv's two old rows are gone, b.csv's row stays: 3 writes, 2 rows left
    assert rows == [("a.csv", date(2026, 11, 5)), ("b.csv", date(2026, 11, 3))]
    # the re-load records the days it deleted (2nd-3rd) and the day it inserted (5th)
    assert sorted(changed[2:]) == [("a.csv", date(2026, 11, 2), date(2026, 11, 3)),
                                   ("a.csv", date(2026, 11, 5), date(2026, 11, 5))]


def test_a_new_manifest_key_still_replaces_its_billing_period(tmp_path):
    """CUR: a period's newest manifest may sit under a new key; the unit owns the period, so it deletes first."""
    db = Warehouse(tmp_path / "wh.duckdb")
    source = SourceConfig(name="billing", kind="aws_cur", path="x")
    period = datetime(2026, 11, 1)

    def lines(key: str, cost: float) -> pl.DataFrame:
        return conform(pl.DataFrame({
            "x_line_id": [f"{key}#1"], "BillingPeriodStart": [period], "ChargePeriodStart": [datetime(2026, 11, 2)],
            "ChargePeriodEnd": [datetime(2026, 11, 3)], "BilledCost": [cost], "EffectiveCost": [cost],
            "BillingCurrency": ["USD"], "ProviderName": ["AWS"], "ServiceName": ["Amazon Bedrock"],
            "x_source": ["billing"], "x_source_file": [key]}), COST_LINES)

    def unit(key: str) -> Unit:
        return Unit(key, key, lambda: None, lambda: None, {"x_source": "billing", "BillingPeriodStart": period},
                    "2026-11")

    assert write(db, source, unit("m/1/Manifest.json"), lines("m/1/part.parquet", 5.0), "c1")[0] == "loaded"
    status, deletes = write(db, source, unit("m/2/Manifest.json"), lines("m/2/part.parquet", 7.0), "c2")
    assert status == "loaded" and len(deletes) == 1  # a key never loaded, yet the period's old rows are replaced
    with db.connect() as con:
        assert con.execute("SELECT count(*), sum(BilledCost) FROM cost_lines").fetchone() == (1, 7.0)


def test_a_batch_of_units_is_written_in_one_transaction_all_or_nothing(tmp_path):
    """Parsed units are written together: re-loads replace their own rows, new units go in one INSERT, and a
    failure anywhere in the batch leaves neither rows nor ingest_log entries of any of its units."""
    db = Warehouse(tmp_path / "wh.duckdb")
    source = SourceConfig(name="logs", kind="usage_csv", path="x")
    assert write(db, source, file_unit("a.csv"), events("a.csv", [2]), "a1")[0] == "loaded"

    batch = [(file_unit("a.csv"), "a2", events("a.csv", [4, 4])), (file_unit("b.csv"), "b1", events("b.csv", [3])),
             (file_unit("c.csv"), "c1", events("c.csv", [6]))]
    with db.connect() as con:
        recording = Recording(con)
        statuses = _write_units(recording, source, batch, None)
    assert statuses == {"a.csv": "replaced", "b.csv": "loaded", "c.csv": "loaded"}
    inserts = [s for s in recording.statements if s.upper().startswith("INSERT INTO \"USAGE_EVENTS\"")]
    assert len(recording.deletes()) == 1 and len(inserts) == 2  # a.csv's own replace, then b and c together

    # e.csv re-loaded (its DELETE and INSERT run), then d.csv's INSERT fails: text where a count belongs
    assert write(db, source, file_unit("e.csv"), events("e.csv", [8]), "e1")[0] == "loaded"
    bad = events("d.csv", [7]).with_columns(pl.lit("many").alias("input_tokens"))
    with pytest.raises(duckdb.Error), db.connect() as con:
        _write_units(con, source, [(file_unit("e.csv"), "e2", events("e.csv", [9])), (file_unit("d.csv"), "d1", bad)],
                     None)
    with db.connect() as con:
        rows = con.execute("SELECT x_source_file, CAST(event_time AS DATE) FROM usage_events ORDER BY 1, 2").fetchall()
        logged = con.execute("SELECT location, status FROM ingest_log ORDER BY location, loaded_at").fetchall()
    # a.csv: its old row (the 2nd) replaced by two rows on the 4th; e.csv's re-load rolled back with d.csv's
    # failure, so its row of the 8th stays and nothing of d.csv is there
    assert rows == [("a.csv", date(2026, 11, 4)), ("a.csv", date(2026, 11, 4)), ("b.csv", date(2026, 11, 3)),
                    ("c.csv", date(2026, 11, 6)), ("e.csv", date(2026, 11, 8))]
    assert logged == [("a.csv", "loaded"), ("a.csv", "replaced"), ("b.csv", "loaded"), ("c.csv", "loaded"),
                      ("e.csv", "loaded")]


def test_a_batch_is_priced_in_one_pass_and_each_unit_keeps_its_own_rows(tmp_path):
    """Units waiting to be written are priced together; every unit must get back exactly its own rows."""
    source = SourceConfig(name="logs", kind="usage_csv", path="x")
    batch = _Batch(Warehouse(tmp_path / "wh.duckdb"), source, None)
    frames = {"a.csv": events("a.csv", [2, 3]), "b.csv": events("b.csv", []), "c.csv": events("c.csv", [4, 5, 6])}
    for key, frame in frames.items():
        batch.add(file_unit(key), key, frame)
    calls = []

    def pricer(frame: pl.DataFrame) -> pl.DataFrame:
        calls.append(frame.height)
        return frame.with_columns((pl.col("event_time").dt.day() * 1.0).alias("cost_usd"))

    taken = batch.take(pricer)
    assert calls == [5] and batch.units == []
    got = {unit.key: (frame["x_source_file"].to_list(), frame["cost_usd"].to_list()) for unit, _, frame in taken}
    assert got == {"a.csv": (["a.csv"] * 2, [2.0, 3.0]), "b.csv": ([], []), "c.csv": (["c.csv"] * 3, [4.0, 5.0, 6.0])}


def test_a_logged_checksum_is_reused_only_for_the_same_file_version():
    from pipelines.ingest import checksum_of

    hashed = []
    unit = Unit("a.csv", "a.csv", lambda: None, lambda: hashed.append(1) or "sha-now", {}, None, "120:1700000000")
    assert checksum_of(unit, {"checksum": "sha-logged", "file_version": "120:1700000000"}) == "sha-logged"
    assert hashed == []
    assert checksum_of(unit, {"checksum": "sha-logged", "file_version": "120:1700000009"}) == "sha-now"  # touched
    assert checksum_of(unit, {"checksum": "sha-logged", "file_version": None}) == "sha-now"  # logged before 0052
    assert checksum_of(unit, None) == "sha-now"
    assert hashed == [1, 1, 1]
