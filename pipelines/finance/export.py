"""`aispend export chargeback`: one month's chargeback as a file finance opens anywhere (docs/finance.md).

CSV (amounts written with the currency's cents, e.g. `1234.50`) or Parquet (amounts as DECIMAL(18, 2), so a
sum in DuckDB, Spark or pandas is exact to the cent). Written to a temporary file beside the target and moved
into place, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.config import AispendConfig
from warehouse.db import Warehouse, query, sql


def chargeback_rows(config: AispendConfig, month: date) -> pl.DataFrame:
    with Warehouse(config.warehouse_path).connect() as con:
        return query(con, sql("chargeback_month"), [month])


def export_chargeback(config: AispendConfig, month: date, out: Path, fmt: str) -> tuple[int, bool] | None:
    """Write the month's chargeback to `out` as csv or parquet; (teams, is_closed), or None when it has none."""
    frame = chargeback_rows(config, month)
    if not frame.height:
        return None
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        if fmt == "parquet":
            frame.write_parquet(tmp)
        else:
            frame.write_csv(tmp, date_format="%Y-%m-%d")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return frame.height, bool(frame["is_closed"].all())
