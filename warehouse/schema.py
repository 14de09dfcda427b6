"""Every table's columns and types, read off the migrations themselves: the one source of the schema.

Readers conform their frames to these, the dashboard types its empty results with them, and nothing retypes a
table by hand. The migrations are applied once per process to an in-memory DuckDB and the catalog is read back
(about 50 ms), so a column added by a new migration reaches every user of the schema with no other edit.
"""

from __future__ import annotations

from functools import lru_cache

import duckdb
import polars as pl

_SCALARS: dict[str, pl.DataType] = {
    "VARCHAR": pl.String,
    "DOUBLE": pl.Float64,
    "BIGINT": pl.Int64,
    "INTEGER": pl.Int32,
    "BOOLEAN": pl.Boolean,
    "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"),
}


def polars_type(duckdb_type: str) -> pl.DataType:
    """A DuckDB column type as the Polars type `query(...).pl()` returns for it."""
    if duckdb_type.endswith("[]"):
        return pl.List(polars_type(duckdb_type[:-2]))
    if duckdb_type.startswith("DECIMAL"):
        return pl.Float64
    try:
        return _SCALARS[duckdb_type]
    except KeyError:
        raise ValueError(f"no Polars type for DuckDB type {duckdb_type!r}; add it to warehouse/schema.py") from None


@lru_cache(maxsize=1)
def _catalog() -> dict[str, dict[str, pl.DataType]]:
    from warehouse.db import migrate

    con = duckdb.connect(":memory:")
    try:
        migrate(con)
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, pl.DataType]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, {})[column] = polars_type(dtype)
    return out


def table_schema(table: str) -> dict[str, pl.DataType]:
    """The table's columns in order, with their Polars types (a copy: callers may extend it)."""
    try:
        return dict(_catalog()[table])
    except KeyError:
        raise KeyError(f"no table {table!r} in warehouse/migrations") from None


def tables() -> list[str]:
    return sorted(_catalog())


def empty(table: str) -> pl.DataFrame:
    """No rows, the table's columns: what a query over a table that has none returns."""
    return pl.DataFrame(schema=table_schema(table))
