"""Loads: the price table, the task catalog, and every source into the table its kind feeds.

Each is a plain function over the warehouse, free of Dagster: the assets (pipelines/defs/assets.py) are a few
lines around them and tests call them directly. A load takes an optional window (a partition's dates): it then
reads only the units of those dates (docs/architecture.md, "Units and partitions").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import AispendConfig
from pipelines.errors import SourceError
from pipelines.ingest import FileResult, Log, file_checksum, ingest_source, is_current, last_ingest, record
from pipelines.pricing.price import price_usage
from pipelines.privacy import prepare_people, scrubber
from pipelines.privacy import stamp as privacy_stamp
from pipelines.pricing.price_table import build_price_table, price_table_version
from pipelines.schemas import PRICES, TASKS, conform
from pipelines.sources import plan_units, spec
from pipelines.sources.task_catalog import read_task_catalog
from pipelines.sources.units import Window
from warehouse.db import Warehouse, as_warehouse, query, replace_rows, sql, transaction


def _quiet(message: str) -> None:
    pass


def load_prices(con: duckdb.DuckDBPyConnection, config: AispendConfig, log: Log = _quiet) -> tuple[pl.DataFrame, str]:
    prices = conform(build_price_table(config.prices.overrides), PRICES)
    replace_rows(con, "prices", prices)
    version = price_table_version(prices)
    log(f"prices: {prices.height:,} price rows ({len(config.prices.overrides)} overrides), version {version}")
    return prices, version


def current_prices(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, str]:
    prices = conform(query(con, "SELECT * FROM prices"), PRICES)
    return prices, price_table_version(prices)


def load_tasks(con: duckdb.DuckDBPyConnection, config: AispendConfig, log: Log = _quiet) -> FileResult | None:
    """Replace the task catalog; a bad catalog is quarantined and the previous one stays."""
    path = config.task_catalog_path
    if path is None:
        log("tasks: no task_catalog in the config; ROI will value no task")
        return None
    location = _config_relative(config, path)
    try:
        checksum = file_checksum(path)
        tasks = conform(read_task_catalog(str(path)), TASKS)
    except (SourceError, OSError) as exc:
        reason = exc.message if isinstance(exc, SourceError) else f"{path}: cannot read file: {exc}"
        record(con, source="task_catalog", kind="task_catalog", location=location, checksum=None,
               status="quarantined", error=reason)
        log(f"QUARANTINED {reason}")
        return FileResult("task_catalog", location, "quarantined", 0, reason)
    if is_current(last_ingest(con, "task_catalog", location), checksum, None):
        log(f"tasks: {location} unchanged ({tasks.height} tasks)")
        return FileResult("task_catalog", location, "unchanged", 0)
    with transaction(con):  # the catalog, the days it may change and its log entry commit together
        replace_rows(con, "tasks", tasks, atomic=False)
        # A task's latency sensitivity or minutes may change the rows of any day: marts by day that read the
        # catalog (waste) owe every day of the partitions (docs/operations.md, "After a crash").
        now = datetime.now(timezone.utc)
        con.execute(sql("insert_changed_days"), ["tasks", config.start_date, now.date(), "task_catalog", location,
                                                 now.replace(tzinfo=None)])
        record(con, source="task_catalog", kind="task_catalog", location=location, checksum=checksum,
               status="loaded", rows=tasks.height)
    log(f"tasks: {tasks.height} tasks from {location}")
    return FileResult("task_catalog", location, "loaded", tasks.height)


def _config_relative(config: AispendConfig, path: Path) -> str:
    """The catalog's name in ingest_log: relative to the config's folder, so a moved project is the same project."""
    try:
        return str(path.relative_to(config.base_dir))
    except ValueError:
        return str(path)


def usage_pricing(
    db: Warehouse | duckdb.DuckDBPyConnection, config: AispendConfig
) -> tuple[Callable[[pl.DataFrame], pl.DataFrame], str]:
    """The pricer for usage frames and the version it stamps on each unit (read in one short connection).

    The version covers the table, the discounts, the aliases and the pricing rules, so changing any of them
    reprices usage already loaded.
    """
    from pipelines.pricing.aliases import apply_model_aliases
    from pipelines.pricing.price import pricing_version

    with as_warehouse(db).connect() as con:
        prices, table_version = current_prices(con)
    lazy_prices = prices.lazy()
    discounts, aliases = config.prices.discounts, config.model_aliases

    def pricer(frame: pl.DataFrame) -> pl.DataFrame:
        return price_usage(apply_model_aliases(frame.lazy(), aliases), lazy_prices, discounts).collect()

    return pricer, pricing_version(table_version, discounts, aliases)


def pricing_for(db: Warehouse | duckdb.DuckDBPyConnection, config: AispendConfig, table: str
                ) -> tuple[Callable[[pl.DataFrame], pl.DataFrame] | None, str | None]:
    """How a table's loads are priced: usage is priced as it loads (rule 7 in docs/architecture.md), bills not."""
    return usage_pricing(db, config) if table == "usage_events" else (None, None)


def preparation_for(db: Warehouse | duckdb.DuckDBPyConnection, config: AispendConfig, table: str
                    ) -> tuple[Callable[[pl.DataFrame], pl.DataFrame] | None, str | None]:
    """Everything a table's frames go through as they load, and the stamp ingest_log keeps of it: person columns
    normalized or pseudonymized (pipelines/privacy.py, the one place that does it), then usage priced. A change
    of either stamp reloads the units (`ingest.is_current`)."""
    pricer, version = pricing_for(db, config, table)
    people = prepare_people(config, table)
    stamps = [v for v in (version, privacy_stamp(config, table)) if v]
    steps = [s for s in (people, pricer) if s is not None]
    if not steps:
        return None, None

    def prepare(frame: pl.DataFrame) -> pl.DataFrame:
        for step in steps:
            frame = step(frame)
        return frame

    return prepare, "; ".join(stamps) or None


def load_table(
    db: Warehouse | duckdb.DuckDBPyConnection,
    config: AispendConfig,
    table: str,
    log: Log = _quiet,
    window: Window | None = None,
) -> list[FileResult]:
    """Read every source whose kind feeds `table` (the units of `window`, when given)."""
    pricer, version = preparation_for(db, config, table)
    scrub = scrubber(config)
    results: list[FileResult] = []
    for source in config.sources:
        if spec(source.kind).table != table:
            continue
        origin = config.resolve(source.path) if source.path else getattr(source.options, "base_url", None) or "the provider's API"
        log(f"{source.name}: reading kind {source.kind} from {origin}")
        results += ingest_source(
            db, source, lambda source=source: plan_units(config, source), pricer=pricer, price_version=version,
            log=log, window=window, scrub=scrub,
        )
    return results
