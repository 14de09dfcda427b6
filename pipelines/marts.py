"""How each mart is built from the warehouse: a pure transform (pipelines/transforms/) over the reads it names.

Two shapes cover every mart:
- `Whole`: a small rollup read and rebuilt whole (task_roi from task_daily, budgets from allocated cost);
- `Chunked`: a mart by day over events or bill lines, read a chunk of whole days at a time (pipelines/reads.py),
  rebuilt only over the days a run owes. A chunk of a mart that counts runs also reads its runs' events a day
  either side (`runs_in`) so a run crossing midnight is whole and counted once, on its first day; one that counts
  re-attempts, the runs that failed the day before (`retries_in`). A mart whose
  rows span days (what-if, reconciliation) is a `Whole` over per-day sums kept as such a mart, so no rollup reads
  the events.
`build(con, config, name, window)` runs one, writes it in one transaction (only the window's days when the mart
is day-windowed, recording that it caught up with the changes it covered) and returns the frame.
The graph (pipelines/graph.py) wires each mart to the assets it depends on, in one line.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines.config import AispendConfig
from pipelines.finance.marts import changes_after_close_mart, chargeback_mart, month_to_date_mart
from pipelines.reads import (
    ai_cost_lines, day_chunks, fx_table, hull, in_days, kept, retries_in, rows_in, runs_in, span, whole,
)
from pipelines.sources.units import Window
from pipelines.transforms.allocate import allocated_cost_from, weights_from_daily
from pipelines.transforms.anomalies import anomalies, spend_by_day_from_daily
from pipelines.transforms.budgets import budget_status
from pipelines.transforms.evidence import evidence_items, evidence_weekly, work_item_links
from pipelines.transforms.evidence_stats import task_evidence
from pipelines.transforms.currency import Fx
from pipelines.transforms.forecast import forecast_month_end
from pipelines.transforms.reconcile import as_invoiced, daily_log_sides, daily_months, reconcile, scoped_lines
from pipelines.transforms.roi import task_daily, task_roi
from pipelines.transforms.spend import spend_daily
from pipelines.transforms.usage import usage_daily
from pipelines.transforms.waste import waste
from pipelines.transforms.whatif import daily_mix, daily_runs, model_whatif_from, thresholds
from warehouse.db import query, replace_rows, sql, transaction
from warehouse.schema import empty, table_schema

ALLOCATED_BASIS = "allocated"
USAGE = ("usage_events", "event_time")
BILL = ("cost_lines", "ChargePeriodStart")


@dataclass(frozen=True)
class Reads:
    """What a transform may read: one warehouse connection, the config, and named reads over it.

    `once` keeps what every chunk of one build shares (the bill's AI lines, the price table) to one read.
    """

    con: duckdb.DuckDBPyConnection
    config: AispendConfig
    shared: dict = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], object]):
        if key not in self.shared:
            self.shared[key] = make()
        return self.shared[key]

    @property
    def fx(self) -> Fx:
        """The rate table (fx_rates, read once per build) and the reporting currency (docs/finance.md)."""
        return self.once("fx", lambda: Fx(fx_table(self.con), self.config.reporting_currency))

    def events(self, mart: str, window: Window) -> pl.LazyFrame:
        """Usage events in the window, only the columns `mart` reads (EVENT_COLUMNS), `cost_usd` in the
        reporting currency at the event's day."""
        return self.fx.usage_checked(rows_in(self.con, *USAGE, window, EVENT_COLUMNS[mart]))

    def run_events(self, mart: str, window: Window) -> pl.LazyFrame:
        """As `events`, with the events of the window's runs a day either side (pipelines/reads.py, `runs_in`):
        what a mart that counts runs reads."""
        return self.fx.usage_checked(runs_in(self.con, window, EVENT_COLUMNS[mart]))

    def retry_events(self, mart: str, window: Window) -> pl.LazyFrame:
        """As `events`, with the events of runs that failed the day before (pipelines/reads.py, `retries_in`):
        what a mart that counts re-attempts reads."""
        return self.fx.usage_checked(retries_in(self.con, window, EVENT_COLUMNS[mart]))

    def rows(self, table: str, column: str, window: Window) -> pl.LazyFrame:
        return rows_in(self.con, table, column, window)

    def rated_bill(self, window: Window) -> pl.LazyFrame:
        """Bill lines charged in the window as they are, with `x_fx_rate` to the reporting currency."""
        return self.fx.rate_of_lines(rows_in(self.con, *BILL, window)).lazy()

    def table(self, name: str) -> pl.LazyFrame:
        return whole(self.con, name)

    def ai_lines(self, window: Window | None = None) -> pl.LazyFrame:
        """The bill's AI lines with every amount in the reporting currency (x_billing_currency: their own)."""
        return self.fx.lines_checked(ai_cost_lines(self.con, window)).lazy()


@dataclass(frozen=True)
class Whole:
    """A rollup rebuilt whole from small tables."""

    transform: Callable[[Reads], pl.LazyFrame | pl.DataFrame]


@dataclass(frozen=True)
class Chunked:
    """A mart by day over chunks of whole days.

    `chunk(reads, days)` builds one chunk's rows (each with its `day`). `over` is what the chunks count rows of;
    `spans` what a full rebuild covers (default `over`). `clip` drops rows outside the chunk's days (a chunk
    that read its runs' events around them).
    """

    chunk: Callable[[Reads, Window], pl.LazyFrame]
    over: tuple[str, str] = USAGE
    spans: tuple[tuple[str, str], ...] = ()
    clip: bool = False


# The usage_events columns each mart's transform reads: a chunk of events holds only these (run and request
# ids, the widest, only where runs are counted). A transform that starts reading another column fails loudly
# (ColumnNotFoundError) in the tests until it is added here.
_TOKENS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"]
_RUNS = ["event_time", "task", "team", "run_id", "request_id", "outcome", "status", "request_count", "cost_usd"]
EVENT_COLUMNS = {
    "usage_daily": ["event_time", "provider", "model", "task", "team", "status", "request_count", "cost_usd",
                    *_TOKENS, "reasoning_tokens"],
    "task_daily": _RUNS,
    "reconciliation_logs_daily": ["event_time", "provider", "model", "request_count", "cost_usd", *_TOKENS],
    "whatif_mix_daily": ["event_time", "provider", "model", "task", "request_count", "cost_usd", *_TOKENS,
                         "cache_write_1h_tokens", "is_batch", "service_tier"],
    "whatif_runs_daily": ["event_time", "task", "run_id", "request_id", "outcome", "request_count", "cost_usd",
                          "provider", "model"],
    "waste": ["event_time", "task", "team", "run_id", "request_id", "status", "request_count", "cost_usd", "provider",
              "model", *_TOKENS, "cache_write_1h_tokens", "is_batch", "service_tier"],
}
EVENT_COLUMNS["work_item_links"] = ["event_time", "work_item_id", "task", "request_count", "cost_usd"]


def _reconciliation_lines(r: Reads) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    def make():
        lines = scoped_lines(r.ai_lines(), r.fx.currency).collect().lazy()
        return lines, daily_months(lines).collect().lazy()

    return r.once("reconciliation_lines", make)


def _reconciliation(r: Reads) -> pl.LazyFrame:
    """The invoice against the logs' per-day sums (reconciliation_logs_daily), never the events: a new day costs
    its own sums only."""
    lines, months = _reconciliation_lines(r)
    return reconcile(lines, months, as_invoiced(r.table("reconciliation_logs_daily").drop("currency"), months))


def _small(r: Reads, name: str) -> pl.LazyFrame:
    """A small table every chunk of a build uses, read once per build."""
    return r.once(name, lambda: r.table(name))


def _whatif_mix(r: Reads, days: Window) -> pl.LazyFrame:
    bounds = r.once("thresholds", lambda: thresholds(_small(r, "prices")))
    return daily_mix(r.events("whatif_mix_daily", days), bounds)


def _whatif(r: Reads) -> pl.LazyFrame:
    """model_whatif from the per-day pre-aggregates, not the events: a new day costs its own sums only."""
    mix, runs = (r.table(name).drop("currency") for name in ("whatif_mix_daily", "whatif_runs_daily"))
    return model_whatif_from(mix, runs, r.table("tasks"), _small(r, "prices"), r.config.prices.discounts, fx=r.fx)


def _waste_chunk(r: Reads, days: Window) -> pl.LazyFrame:
    return waste(r.retry_events("waste", days), r.ai_lines(days), _small(r, "tasks"), _small(r, "prices"),
                 r.config.prices.discounts, fx=r.fx)


def _allocated_daily(r: Reads) -> tuple[pl.LazyFrame, date | None]:
    """Daily AI cost per provider and team on the allocated basis, and the newest day it has.

    Budgets and forecasts count allocated cost: invoice-true where invoices are loaded, the logs' priced cost
    where they are not, and with teams, so one figure serves finance and team budgets alike. Seats and usage a
    vendor bills beyond them that no loaded bill carries (person_monthly.not_on_bills_usd) are added on the first
    day of their month: a seat is paid by the month.
    """
    frame = pl.concat([query(r.con, sql("allocated_daily")), query(r.con, sql("seat_costs_daily"))],
                      how="vertical_relaxed")
    return frame.lazy(), (frame["day"].max() if frame.height else None)


def _budget_status(r: Reads) -> pl.LazyFrame | pl.DataFrame:
    daily, as_of = _allocated_daily(r)
    if as_of is None or not r.config.budgets:
        return empty("budget_status")
    return budget_status(r.config.budgets, daily, as_of, cost_basis=ALLOCATED_BASIS)


def _spend_forecast(r: Reads) -> pl.LazyFrame | pl.DataFrame:
    daily, as_of = _allocated_daily(r)
    return empty("spend_forecast") if as_of is None else forecast_month_end(daily, as_of)


# Measured time saved (docs/evidence.md): work items, the requests that name them, the comparison per task.
def _evidence_items(r: Reads) -> pl.LazyFrame:
    period = r.config.evidence
    return evidence_items(r.table("work_items"), r.table("work_item_links"), period.since, period.until)


def _task_evidence(r: Reads) -> pl.LazyFrame:
    settings = r.config.evidence
    return task_evidence(r.table("evidence_items"), r.table("task_daily"), r.table("tasks"),
                         min_items=settings.min_items, confidence=settings.confidence)
# --- people, seats and their bill (docs/sources/seats_and_agents.md) --------------------------------------------

PERSON_MONTHLY_USD = ["seat_cost_usd", "usage_cost_usd", "not_on_bills_usd", "api_equivalent_usd", "plan_price_usd",
                      "next_plan_price_usd"]


def _people_reads(r: Reads) -> dict:
    """What person_monthly and idle_seats read: the small people tables, the logs summed per user and day, and
    the day the data reaches (today, UTC, when nothing carries a date)."""
    from pipelines.planning import utc_today
    from pipelines.transforms.person_use import sources_frame

    def make() -> dict:
        kinds = {s.name: s.kind for s in r.config.sources}
        as_of = r.con.execute(sql("people_as_of")).fetchone()[0] or utc_today()
        return {"people": r.table("people"), "seats": r.table("seats"), "activity": r.table("person_activity"),
                "usage": r.table("person_usage_daily"), "sources": sources_frame(kinds),
                "as_of": as_of}

    return r.once("people", make)


def _person_monthly(r: Reads) -> pl.LazyFrame:
    from pipelines.plans import vendor_in
    from pipelines.transforms.person_monthly import person_monthly

    reads = _people_reads(r)
    premium = [s.name for s in r.config.sources if s.kind == "copilot_premium_requests"]
    org = (query(r.con, sql("org_usage_monthly"), [premium]) if premium
           else pl.DataFrame(schema={"month": pl.Date, "usage_cost_usd": pl.Float64}))
    seat_billed = query(r.con, sql("seat_lines")).lazy().select("month", vendor_in(pl.col("names")).alias("vendor"))
    built = person_monthly(
        reads["people"], reads["seats"], reads["activity"], reads["usage"],
        org.lazy().with_columns(pl.lit("github").alias("vendor")), seat_billed.filter(pl.col("vendor").is_not_null()),
        reads["sources"], _small(r, "prices"), reads["as_of"], r.config.prices.discounts,
    )
    # Seats are priced by the month in dollars: in the reporting currency at the month's first day (docs/finance.md).
    return r.fx.usd(built.lazy(), pl.col("month"), PERSON_MONTHLY_USD)


def _idle_seats(r: Reads) -> pl.LazyFrame:
    from pipelines.transforms.person_monthly import idle_seats

    reads = _people_reads(r)
    built = idle_seats(reads["people"], reads["seats"], reads["activity"], reads["usage"], reads["sources"],
                       reads["as_of"])
    return r.fx.usd(built.lazy(), pl.col("as_of"), ["monthly_cost_usd"])


MARTS: dict[str, Whole | Chunked] = {
    "spend_daily": Chunked(lambda r, days: spend_daily(r.rated_bill(days)), over=BILL),
    "usage_daily": Chunked(lambda r, days: usage_daily(r.events("usage_daily", days))),
    "allocated_cost": Whole(lambda r: allocated_cost_from(r.ai_lines(), weights_from_daily(r.table("usage_daily")),
                                                          r.fx.currency)),
    "task_daily": Chunked(lambda r, days: task_daily(r.run_events("task_daily", days),
                                                     r.rows("allocated_cost", "day", days)),
                          spans=(USAGE, ("allocated_cost", "day")), clip=True),
    "task_roi": Whole(lambda r: task_roi(r.table("task_daily"), r.table("tasks"),
                                         r.table("task_evidence").filter(pl.col("grain") == "task"))),
    "reconciliation_logs_daily": Chunked(lambda r, days: daily_log_sides(r.events("reconciliation_logs_daily", days))),
    "reconciliation": Whole(_reconciliation),
    "whatif_mix_daily": Chunked(_whatif_mix),
    "whatif_runs_daily": Chunked(lambda r, days: daily_runs(r.run_events("whatif_runs_daily", days), days)),
    "model_whatif": Whole(_whatif),
    "waste": Chunked(_waste_chunk, spans=(USAGE, BILL), clip=True),
    "anomalies": Whole(lambda r: anomalies(spend_by_day_from_daily(r.table("usage_daily")))),
    "budget_status": Whole(_budget_status),
    "spend_forecast": Whole(_spend_forecast),
    # people, seats and their bill
    "person_usage_daily": Chunked(lambda r, days: query(r.con, sql("person_usage_daily"), list(days)).lazy()),
    # usage per day and source: what the usage checks and the run's summary read instead of every event
    "source_daily": Chunked(lambda r, days: query(r.con, sql("source_daily"), list(days)).lazy()),
    "person_monthly": Whole(_person_monthly),
    "idle_seats": Whole(_idle_seats),
    # finance (docs/finance.md): closed months, chargeback, the open month's expected invoice
    "changes_after_close": Whole(changes_after_close_mart),
    "chargeback": Whole(chargeback_mart),
    "month_to_date": Whole(month_to_date_mart),
}
MARTS |= {
    "work_item_links": Chunked(lambda r, days: work_item_links(r.events("work_item_links", days))),
    "evidence_items": Whole(_evidence_items),
    "task_evidence": Whole(_task_evidence),
    "task_evidence_weekly": Whole(lambda r: evidence_weekly(r.table("evidence_items"))),
}


def in_currency(frame: pl.DataFrame, name: str, currency: str) -> pl.DataFrame:
    """A money mart says which currency its amounts are in: its `currency` column, unless the transform set it."""
    if "currency" in table_schema(name) and "currency" not in frame.columns:
        return frame.with_columns(pl.lit(currency, pl.String).alias("currency"))
    return frame


def _collect(frame: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _partial(built: pl.LazyFrame, days: Window, clip: bool) -> pl.DataFrame:
    """One chunk's result, collected and copied out of the chunk's memory."""
    if clip:
        built = built.filter(in_days("day", days))
    return kept(_collect(built))


def build_chunked(r: Reads, mart: Chunked, window: Window | None, progress: Callable[[str], None] | None = None
                  ) -> pl.DataFrame:
    """Build a chunked mart over `window` (every day its inputs span when None).

    A first load builds each mart over the whole history, minutes at 100M events: `progress` hears every tenth
    chunk, as a load reports every tenth unit, so a long build is never silent. One thread makes the next chunk's
    plan (its reads from DuckDB, all of them eager) while this one's is computed in Polars: the two engines
    overlap on the two cores, and only that thread uses the connection until the build returns.
    """
    target = window if window is not None else hull(*(span(r.con, *t) for t in (mart.spans or (mart.over,))))
    parts = day_chunks(r.con, target, *mart.over) if target else []
    step = max(1, len(parts) // 10)
    partials = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-reads") as reader:
        planned = reader.submit(mart.chunk, r, parts[0]) if parts else None
        for number, days in enumerate(parts, start=1):
            plan = planned.result()
            if number < len(parts):
                planned = reader.submit(mart.chunk, r, parts[number])
            partials.append(_partial(plan, days, mart.clip))
            if progress is not None and len(parts) > 1 and (number % step == 0 or number == len(parts)):
                progress(f"built through {days[1] - timedelta(days=1)} ({number}/{len(parts)} chunks)")
    return pl.concat(partials, how="vertical_relaxed") if partials else None


def build(con: duckdb.DuckDBPyConnection, config: AispendConfig, name: str, window: Window | None = None,
          on_written: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
          log: Callable[[str], None] | None = None) -> pl.DataFrame:
    """Build mart `name` (only `window`'s days when given) and write it in one transaction.

    `on_written` runs in that transaction after the rows are in (the run plan records what the build covered);
    `log` hears a chunked build's progress.
    """
    mart = MARTS[name]
    r = Reads(con, config)
    if isinstance(mart, Whole):
        frame = _collect(mart.transform(r))
    else:
        frame = build_chunked(r, mart, window, log and (lambda message: log(f"{name}: {message}")))
    if frame is None:
        frame = empty(name)
    frame = in_currency(frame, name, config.reporting_currency)
    with transaction(con):
        if isinstance(mart, Chunked) and window is not None:
            replace_rows(con, name, frame, between=("day", *window), atomic=False)
        else:
            replace_rows(con, name, frame, atomic=False)
        if on_written is not None:
            on_written(con)
    return frame
