"""Publishing what the dashboard reads: a Parquet snapshot per table, replaced atomically after each write.

The dashboard never opens the DuckDB file (rule 5 in docs/architecture.md): it reads these files, so it keeps
working while a run writes. With a `publish` block in the config, each snapshot is also uploaded to S3, so a
dashboard elsewhere needs no volume shared with the pipeline (docs/scaling.md).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from pipelines.config import AispendConfig
from warehouse.db import SNAPSHOT_TABLES, export_snapshot


def publish(con: duckdb.DuckDBPyConnection, config: AispendConfig, *tables: str) -> None:
    """Refresh the snapshots of these tables, and of ingest_log, which every step writes. Only tables the
    dashboard reads (SNAPSHOT_TABLES) have one: the per-day sums the rollups read stay in the warehouse."""
    _publish(con, config, [t for t in (*tables, "ingest_log") if t in SNAPSHOT_TABLES])


def republish(con: duckdb.DuckDBPyConnection, config: AispendConfig) -> None:
    """Publish every table the dashboard reads, as the last step of every run.

    A step commits its rows, then publishes its snapshot: a run killed in between leaves the snapshot behind the
    table, and a day-windowed mart owing nothing is not rebuilt by the next run. So every run ends here. It costs
    little (all 21 snapshots of the 90-day demo: 0.2-0.4 s, against about a minute for the run); a snapshot whose
    bytes did not change keeps its file (and its time); with a `publish` block every snapshot is uploaded again (an
    upload killed after its local write is retried this way too).
    """
    _publish(con, config, SNAPSHOT_TABLES)


def _publish(con: duckdb.DuckDBPyConnection, config: AispendConfig, tables: Iterable[str]) -> None:
    target = config.publish
    for table in dict.fromkeys(tables):
        path = export_snapshot(con, table, config.snapshot_path)
        if target is not None:
            from warehouse.publish_s3 import upload_snapshot

            upload_snapshot(path, target.uri, table, endpoint_url=target.endpoint_url, region=target.region)
