"""What a source kind declares about itself, so that config, ingest, sensors and docs all read one place.

A source kind is one module under `pipelines/sources/` that defines `SPEC` (or `SPECS`, a list, when one module
serves several kinds): the table it feeds, how its units are found (a file reader, or a planner for units that
are not one file each: a billing period's manifest, an API day), the options it takes as a pydantic model
(checked when the config loads, so a misspelt option is refused before anything runs), the dates its paths
carry, what an S3 sensor watches for, and the environment variable holding its key. `pipelines.sources` finds
every module that declares one; adding a kind is that module, its doc under docs/sources/ and its tests
(docs/architecture.md, "Adding a source kind").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from pipelines.config import AispendConfig, SourceConfig
    from pipelines.sources.units import Unit


class SourceOptions(BaseModel):
    """A kind's `options:` block. Unknown keys are refused: a misspelt option silently ignored would load the
    wrong thing with exit code 0."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_empty: bool = Field(
        default=False,
        description="let a unit that holds rows be re-delivered with none (its rows are then removed); by default "
                    "such a delivery is quarantined, so a header-only file never wipes a billing period")


class FileOptions(SourceOptions):
    """Options every file kind takes."""

    pattern: str | None = Field(default=None, description="a file-name glob within `path`, e.g. *.json.gz")


@dataclass(frozen=True)
class PathDate:
    """A date shape found in export paths, and the grain it names ("day" or "month").

    Groups are year, month and (for days) day. Within one shape the match nearest the file name wins.
    """

    name: str
    pattern: re.Pattern
    grain: str


# Billing-period folders first: such a folder may also hold delivery dates.
BILLING_PERIOD = PathDate("BILLING_PERIOD=YYYY-MM folder (AWS Data Exports)",
                          re.compile(r"(?:BILLING_PERIOD|billing_period)=(\d{4})-(\d{2})(?!\d)"), "month")
ISO_DAY = PathDate("YYYY-MM-DD", re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"), "day")
SLASHED_DAY = PathDate("YYYY/MM/DD folders (Bedrock and CloudWatch deliveries)",
                       re.compile(r"(?<!\d)(\d{4})/(\d{2})/(\d{2})(?!\d)"), "day")
DATE_RANGE_FOLDER = PathDate("yyyymmdd-yyyymmdd folder (legacy CUR, Azure exports)",
                             re.compile(r"(?<!\d)(\d{4})(\d{2})\d{2}-\d{8}(?!\d)"), "month")
ISO_MONTH = PathDate("YYYY-MM", re.compile(r"(?<!\d)(\d{4})-(\d{2})(?![\d-])"), "month")
PATH_DATES: tuple[PathDate, ...] = (BILLING_PERIOD, ISO_DAY, SLASHED_DAY, DATE_RANGE_FOLDER, ISO_MONTH)


@dataclass(frozen=True)
class Watch:
    """What an S3 sensor watches under a source's prefix: the data time an object holds, and the run key that
    makes each run request unique. With `dated_only`, an object with no data time (a data file beside its
    manifest) triggers nothing; otherwise it counts at the time it was written."""

    suffix: str
    data_time: Callable[[str], datetime | None]
    run_key: Callable[[str, str], str]  # (location, etag) -> run_key
    description: str
    dated_only: bool = False


Reader = Callable[..., pl.DataFrame]          # read(path, source, data=None) -> frame conformed to the table
# read_many([(path, data), ...], source) -> one frame per file, as `read` gives it; raises when it cannot
ManyReader = Callable[[list[tuple[str, bytes]], "SourceConfig"], list[pl.DataFrame]]
Planner = Callable[["AispendConfig", "SourceConfig"], list["Unit"]]


@dataclass(frozen=True)
class SourceSpec:
    """One source kind. Exactly one of `read` (one file is one unit) and `plan` (the kind finds its own units)."""

    kind: str
    table: str
    summary: str
    doc: str  # docs/sources/<page>.md
    options: type[SourceOptions] = FileOptions
    read: Reader | None = None
    # Optional, beside `read`: small files read together, for kinds whose deliveries are many small files and
    # whose fixed cost per file outweighs the records in one (docs/architecture.md, "Units and partitions").
    # It reads only what it can read whole and raises on anything else; each file is then read alone by `read`,
    # which names the fault, so a bad file is quarantined by itself as always.
    read_many: ManyReader | None = None
    plan: Planner | None = None
    needs_path: bool = True
    key_env: str | None = None  # API kinds: the environment variable holding the key, unless api_key_env names one
    path_dates: tuple[PathDate, ...] = PATH_DATES
    watch: Watch | None = None

    def __post_init__(self) -> None:
        if (self.read is None) == (self.plan is None):
            raise ValueError(f"source kind {self.kind}: give a reader or a planner, not both or neither")

    @property
    def priced(self) -> bool:
        """Usage is priced as it loads (usage_events.cost_usd); bills carry their own cost."""
        return self.table == "usage_events"
