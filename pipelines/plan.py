"""The run plan, derived from the graph: which steps run together, in what order, over which days.

A stage is a run of steps of one partitioning (daily, monthly, or none) and one group (loads, or marts), in
dependency order; a Dagster run covers one partitioning, so `aispend run` is one Dagster run per stage. Each
stage's days are worked out just before it runs:
- a load stage: the partitions of the units that are new or changed (`planning.pending_units`), or exactly a
  backfill's range; undated units are read by any run of their table;
- a mart stage by days: every day a load changed since the mart's last build (`planning.stale_days`), recorded
  with the rows, so the days after a crash, a moved file or rows outside a file's named day are all rebuilt
  (and the day either side for a mart that counts runs across midnight);
- unpartitioned steps: every run.
The same plan runs through Dagster (`aispend run`, pipelines/cli_run.py) or in process (`run_in_process`, for
tests and scripts); jobs, schedules and sensors take their job names and selections from here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from pipelines.config import AispendConfig
from pipelines.graph import BY_NAME, DAY, GRAPH, INGEST, MONTH, Step, loaded_tables
from pipelines.ingest import FileResult
from pipelines.planning import pending_units, stale_days, utc_today
from pipelines.reads import hull
from pipelines.sources.units import Window
from warehouse.db import Warehouse

# A Dagster job holds one partitioning: one job per partitioning, each selecting every step of it.
JOBS: dict[str | None, str] = {MONTH: "cost_lines_job", DAY: "usage_events_job", None: "everything"}
JOB_DESCRIPTIONS = {
    MONTH: "Billing months: the monthly loads and marts for a month or a range.",
    DAY: "UTC days: the daily loads and marts for a day or a range.",
    None: "The unpartitioned steps: prices, the task catalog, the rollup marts.",
}


@dataclass(frozen=True)
class Stage:
    grain: str | None
    group: str
    steps: tuple[str, ...]


def stages(graph: tuple[Step, ...] = GRAPH) -> list[Stage]:
    """The graph cut into stages: repeatedly take the first step whose dependencies are done (in declaration
    order), with every other step of its partitioning and group whose dependencies are done or in the stage."""
    done: set[str] = set()
    left = list(graph)
    out: list[Stage] = []
    while left:
        ready = [s for s in left if set(s.deps) <= done]
        if not ready:
            raise ValueError(f"the graph has a cycle among {', '.join(s.name for s in left)}")
        first = ready[0]
        taken: list[Step] = []
        grew = True
        while grew:
            grew = False
            for s in left:
                if (s not in taken and s.grain == first.grain and s.group == first.group
                        and set(s.deps) <= done | {t.name for t in taken}):
                    taken.append(s)
                    grew = True
        out.append(Stage(first.grain, first.group, tuple(s.name for s in taken)))
        done |= {s.name for s in taken}
        left = [s for s in left if s not in taken]
    return out


def job_steps(grain: str | None, graph: tuple[Step, ...] = GRAPH) -> list[str]:
    return [s.name for s in graph if s.grain == grain]


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def months_covering(window: Window) -> Window:
    """The billing months a window of days touches, as a window of whole months."""
    return month_start(window[0]), next_month(window[1] - timedelta(days=1))


Say = Callable[[str], None]


@dataclass
class Planner:
    """Works out each stage's days for one run (a backfill when `backfill` is given)."""

    config: AispendConfig
    log: Say
    backfill: Window | None = None
    today: date | None = None

    def __post_init__(self) -> None:
        self.today = self.today or utc_today()
        self.db = Warehouse(self.config.warehouse_path)

    def bounds(self, grain: str) -> Window:
        first, last = self.config.start_date, self.today + timedelta(days=1)
        return (month_start(first), next_month(self.today)) if grain == MONTH else (first, last)

    def window(self, stage: Stage) -> Window | None:
        """The stage's days (None: nothing to do); unpartitioned stages always run (see `runs`)."""
        if stage.grain is None:
            return None
        found = self.backfill
        if stage.group == INGEST and self.backfill is None:
            for table in stage.steps:
                todo = pending_units(self.db, self.config, table)
                found = hull(found, todo.window(), (self.today, self.today + timedelta(days=1)) if todo.undated
                             else None)
        elif stage.group != INGEST:
            with self.db.connect() as con:
                for mart in stage.steps:
                    days = stale_days(con, mart, loaded_tables(mart))
                    found = hull(found, widened(days, BY_NAME[mart], self.bounds(stage.grain)))
        if found is None:
            return None
        if stage.grain == MONTH:
            found = months_covering(found)
        return self.clamp(found, stage)

    def clamp(self, window: Window, stage: Stage) -> Window | None:
        """Keep a window inside the partitions that exist (start_date .. today); say what falls outside."""
        first, last = self.bounds(stage.grain)
        start, end = max(window[0], first), min(window[1], last)
        if (start, end) != window:
            self.log(f"{', '.join(stage.steps)}: data dated {window[0]}..{window[1] - timedelta(days=1)} reaches "
                     f"outside the partitions {first}..{last - timedelta(days=1)} (config start_date .. today); "
                     "that part is not read")
        return (start, end) if start < end else None


def widened(days: Window | None, step: Step, bounds: Window) -> Window | None:
    """A step that reads a day either side (`around`: runs across midnight) owes the day either side of a change
    too: a request added on day D may extend a run that started on D-1. Not past the partitions (`bounds`)."""
    if days is None or not step.around:
        return days
    one = timedelta(days=1)
    return min(days[0], max(days[0] - one, bounds[0])), max(days[1], min(days[1] + one, bounds[1]))


def run_in_process(config: AispendConfig, log: Say = lambda m: None, backfill: Window | None = None
                   ) -> list[FileResult]:
    """The whole plan without Dagster, step by step (what `aispend run` does through Dagster)."""
    from pipelines.execute import run_step

    planner = Planner(config, log, backfill)
    results: list[FileResult] = []
    for stage in stages():
        window = planner.window(stage)
        if stage.grain is not None and window is None:
            continue
        for name in stage.steps:
            results += run_step(name, config, window, log).results
    return results
