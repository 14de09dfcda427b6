"""The warehouse as a Dagster resource: the config file names it, and it hands out the one writer."""


from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.config import AispendConfig, load_config
from warehouse.db import DEFAULT_WAIT_S, Warehouse, connect_writer


@lru_cache(maxsize=4)
def _cached_config(path: str, mtime_ns: int) -> AispendConfig:
    return load_config(path)


class AispendResource(dg.ConfigurableResource):
    """Where the config lives; everything else (warehouse path, sources) comes from that file.

    `lock_wait_s`: how long a step waits for the warehouse while another process (a parallel partition)
    writes, before it fails with a clear error.
    """

    config_path: str
    lock_wait_s: float = DEFAULT_WAIT_S

    def config(self) -> AispendConfig:
        """The config, read again only when its file changed (one read per run, not one per step)."""
        return _cached_config(self.config_path, Path(self.config_path).stat().st_mtime_ns)

    def warehouse(self, config: AispendConfig | None = None) -> Warehouse:
        """The warehouse opened per write (ingest holds no connection while it fetches and parses)."""
        return Warehouse((config or self.config()).warehouse_path, wait_s=self.lock_wait_s)

    @contextmanager
    def writer(self) -> Iterator[tuple[AispendConfig, duckdb.DuckDBPyConnection]]:
        config = self.config()
        con = connect_writer(config.warehouse_path, self.lock_wait_s)
        try:
            yield config, con
        finally:
            con.close()
