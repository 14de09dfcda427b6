"""The warehouse as a Dagster resource: the config file names it, and it hands out the one writer."""


from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from pipelines.config import AispendConfig, load_config
from warehouse.db import connect_writer


class AispendResource(dg.ConfigurableResource):
    """Where the config lives; everything else (warehouse path, sources) comes from that file."""

    config_path: str

    def config(self) -> AispendConfig:
        return load_config(self.config_path)

    @contextmanager
    def writer(self) -> Iterator[tuple[AispendConfig, duckdb.DuckDBPyConnection]]:
        config = self.config()
        con = connect_writer(config.warehouse_path)
        try:
            yield config, con
        finally:
            con.close()
