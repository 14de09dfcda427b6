"""Polars schemas of the tables sources feed, read off warehouse/migrations (warehouse/schema.py), so readers
and transforms agree with the warehouse by construction.

A reader ends with `conform(frame, COST_LINES)`: every column present, in order, with the table's type.
"""

from __future__ import annotations

import polars as pl

from warehouse.schema import table_schema

COST_LINES: dict[str, pl.DataType] = table_schema("cost_lines")
USAGE_EVENTS: dict[str, pl.DataType] = table_schema("usage_events")
TASKS: dict[str, pl.DataType] = table_schema("tasks")
PRICES: dict[str, pl.DataType] = table_schema("prices")
WORK_ITEMS: dict[str, pl.DataType] = table_schema("work_items")

# The tables sources feed, each with the column that dates a row: a load records the days it changed by it, and
# the marts over those days are rebuilt (pipelines/ingest.py).
TIME_COLUMNS: dict[str, str] = {"cost_lines": "ChargePeriodStart", "usage_events": "event_time"}
# Work records count on the day they closed (docs/evidence.md).
TIME_COLUMNS["work_items"] = "closed_at"
# People, seats and per-person activity (docs/sources/seats_and_agents.md). A people row may have no date
# (valid_from NULL: always); its load then records no changed days, which no mart by days reads anyway.
PEOPLE: dict[str, pl.DataType] = table_schema("people")
SEATS: dict[str, pl.DataType] = table_schema("seats")
PERSON_ACTIVITY: dict[str, pl.DataType] = table_schema("person_activity")
TIME_COLUMNS |= {"people": "valid_from", "seats": "start_date", "person_activity": "day"}

UNATTRIBUTED = "unattributed"


def conform(frame: pl.LazyFrame | pl.DataFrame, schema: dict[str, pl.DataType]):
    """Select exactly the schema's columns in order, casting each and adding missing ones as NULL."""
    present = set(frame.collect_schema().names())
    return frame.select(
        [
            (pl.col(name) if name in present else pl.lit(None)).cast(dtype, strict=False).alias(name)
            for name, dtype in schema.items()
        ]
    )
