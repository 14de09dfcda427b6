"""Publishing what the dashboard reads: a Parquet snapshot per table, replaced atomically after each write.

The dashboard never opens the DuckDB file (rule 5 in docs/architecture.md): it reads these files, so it keeps
working while a run writes. With a `publish` block in the config, each snapshot is also uploaded to S3, so a
dashboard elsewhere needs no volume shared with the pipeline (docs/scaling.md).
"""

from __future__ import annotations

import duckdb

from pipelines.config import AispendConfig
from warehouse.db import export_snapshot


def publish(con: duckdb.DuckDBPyConnection, config: AispendConfig, *tables: str) -> None:
    """Refresh the snapshots of these tables, and of ingest_log, which every step writes."""
    target = config.publish
    for table in (*tables, "ingest_log"):
        path = export_snapshot(con, table, config.snapshot_path)
        if target is not None:
            from warehouse.publish_s3 import upload_snapshot

            upload_snapshot(path, target.uri, table, endpoint_url=target.endpoint_url, region=target.region)
