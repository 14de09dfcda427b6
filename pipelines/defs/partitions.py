"""Partitions: usage by UTC day, invoices by billing month, both starting at the config's `start_date`.

Why these grains: app logs and provider API pulls arrive per day and settle after a day or two, so a day is
what gets re-read; cloud bills are restated per billing period, so a month is what gets replaced. Both end one
step past now (`end_offset=1`) so today and this month exist as partitions while they fill up.
A backfill of a range runs as ONE run (`BackfillPolicy.single_run()`): the asset reads
`context.partition_time_window`, the whole range, instead of one run per day each opening the warehouse.
`aispend run` builds the same assets without partitions and names a run's days in its tags instead
(`window_tags`, pipelines/defs/assets.py): the same days, without a materialization recorded per day.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from pipelines.config import AispendConfig
from pipelines.sources.units import Window

DEFAULT_START = date(2024, 1, 1)
SINGLE_RUN = dg.BackfillPolicy.single_run()
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# `aispend run`'s own runs name their days in these tags instead (`window_tags`, pipelines/defs/assets.py).
WINDOW_START_TAG = "aispend/window_start"
WINDOW_END_TAG = "aispend/window_end"


def daily(start: date = DEFAULT_START) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), end_offset=1)


def monthly(start: date = DEFAULT_START) -> dg.MonthlyPartitionsDefinition:
    return dg.MonthlyPartitionsDefinition(start_date=start.replace(day=1).isoformat(), end_offset=1)


def start_date(config: AispendConfig | None) -> date:
    return config.start_date if config is not None else DEFAULT_START


def window(context: dg.AssetExecutionContext) -> Window:
    """The dates this run covers, end exclusive: one partition, or a backfill's whole range."""
    tw = context.partition_time_window
    return tw.start.date(), tw.end.date()


def range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Tags that make one run cover a range of partitions (what a single-run backfill launches)."""
    return {RANGE_START_TAG: first_key, RANGE_END_TAG: last_key}


def window_tags(days: Window) -> dict[str, str]:
    """Tags naming a run's days [start, end) for assets built without partitions (`tagged_window` reads them)."""
    return {WINDOW_START_TAG: days[0].isoformat(), WINDOW_END_TAG: days[1].isoformat()}


def tagged_window(context: dg.AssetExecutionContext) -> Window | None:
    """The days `window_tags` named for this run; None when it named none (the step runs whole)."""
    tags = context.run.tags
    if WINDOW_START_TAG not in tags or WINDOW_END_TAG not in tags:
        return None
    return date.fromisoformat(tags[WINDOW_START_TAG]), date.fromisoformat(tags[WINDOW_END_TAG])
