"""Marts built a few days of events at a time equal the same transforms over all events at once.

The pipeline never holds every event to build a mart: it reads chunks of whole days (reads.day_chunks), a day
either side for runs, and adds the chunks' partial sums up. The expected values here come from the pure
transforms over the whole tables, read with plain SQL; the warehouse holds the demo data plus a run that
crosses midnight UTC with a failure just before it and the re-attempt just after.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import marts, reads
from pipelines.plan import run_in_process
from pipelines.config import load_config
from pipelines.demo import generate_demo
from pipelines.schemas import USAGE_EVENTS, conform
from pipelines.transforms.allocate import allocated_cost
from pipelines.transforms.anomalies import anomalies, spend_by_day
from pipelines.transforms.reconcile import reconciliation
from pipelines.transforms.roi import task_daily
from pipelines.transforms.usage import usage_daily
from pipelines.transforms.waste import waste
from pipelines.transforms.whatif import model_whatif
from tests.support.fx import lines_in_usd
from warehouse.db import connect_writer, query, replace_rows

MIDNIGHT_RUN = "run-across-midnight"


def midnight_run(day: date) -> pl.DataFrame:
    """Three requests of one run: 23:59:30 ok, 23:59:50 error, then 00:00:10 the next day, the re-attempt."""
    times = [datetime(day.year, day.month, day.day, 23, 59, 30), datetime(day.year, day.month, day.day, 23, 59, 50)]
    times.append(datetime.combine(date.fromordinal(day.toordinal() + 1), datetime.min.time()).replace(second=10))
    return conform(pl.DataFrame({
        "event_time": times,
        "provider": ["openai"] * 3,
        "model": ["gpt-4o-mini"] * 3,
        "task": ["summarize_ticket"] * 3,
        "team": ["support"] * 3,
        "run_id": [MIDNIGHT_RUN] * 3,
        "request_id": ["m1", "m2", "m3"],
        "status": ["ok", "error", "ok"],
        "outcome": [None, None, "success"],
        "request_count": [1, 1, 1],
        "input_tokens": [1000, 1000, 1000],
        "output_tokens": [100, 0, 100],
        "cache_read_tokens": [0, 0, 0],
        "cache_write_tokens": [0, 0, 0],
        "reasoning_tokens": [0, 0, 0],
        "is_batch": [False] * 3,
        "cost_usd": [0.0002, 0.00015, 0.0002],
        "x_source": ["test"] * 3,
        "x_source_file": ["midnight"] * 3,
    }), USAGE_EVENTS)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("chunked")
    config = load_config(generate_demo(root / "demo", days=10, events_target=3_000, end_date=date(2026, 11, 15)))
    run_in_process(config)
    con = connect_writer(config.warehouse_path)
    replace_rows(con, "usage_events", midnight_run(date(2026, 11, 10)), where={"x_source_file": "midnight"})
    yield con, config
    con.close()


def everything(con) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The events, and the bill lines in dollars (the demo bills Azure in EUR; the marts convert first)."""
    cost = lines_in_usd(query(con, "SELECT * FROM cost_lines"))
    return query(con, "SELECT * FROM usage_events").lazy(), cost.lazy()


def build_all(con, config) -> dict[str, pl.DataFrame]:
    names = ["usage_daily", "allocated_cost", "task_daily", "reconciliation_logs_daily", "reconciliation",
             "whatif_mix_daily", "whatif_runs_daily", "model_whatif", "waste", "anomalies"]
    return {name: marts.build(con, config, name) for name in names}


@pytest.fixture(scope="module")
def one_day_chunks(warehouse):
    """Every mart rebuilt with chunks of at most 50 events: about one day each, so every run crossing midnight
    spans two chunks."""
    con, config = warehouse
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reads, "MAX_CHUNK_EVENTS", 50)
        n_chunks = len(reads.day_chunks(con, reads.span(con, "usage_events", "event_time")))
        built = build_all(con, config)
    return built, n_chunks


def expected(con, config) -> dict[str, pl.DataFrame]:
    usage, cost = everything(con)
    tasks, prices = query(con, "SELECT * FROM tasks").lazy(), query(con, "SELECT * FROM prices").lazy()
    allocated = allocated_cost(cost, usage).collect()
    return {
        "usage_daily": usage_daily(usage).collect(),
        "allocated_cost": allocated,
        "task_daily": task_daily(usage, allocated.lazy()).collect(),
        "reconciliation": reconciliation(cost, usage).collect(),
        "model_whatif": model_whatif(usage, tasks, prices, config.prices.discounts).collect(),
        "waste": waste(usage, cost, tasks, prices, config.prices.discounts).collect(),
        "anomalies": anomalies(spend_by_day(usage)).collect(),
    }


@pytest.mark.parametrize("mart", ["usage_daily", "allocated_cost", "task_daily", "reconciliation", "model_whatif",
                                  "waste", "anomalies"])
def test_mart_built_in_one_day_chunks_equals_the_transform_over_all_events(warehouse, one_day_chunks, mart):
    con, config = warehouse
    built, n_chunks = one_day_chunks
    assert n_chunks >= 10  # the test means something only if the days were really split
    want = expected(con, config)[mart]
    assert built[mart].height == want.height > 0
    assert built[mart]["currency"].unique().to_list() == ["USD"]  # the reporting currency the mart names
    assert_frame_equal(built[mart].drop("currency"), want, check_dtypes=False, check_exact=False, rel_tol=1e-9,
                       abs_tol=1e-12)
    stored = query(con, f"SELECT * FROM {mart}")
    assert stored.height == want.height


def test_run_across_midnight_counts_once_on_its_first_day_and_its_retry_on_the_next(warehouse, one_day_chunks):
    con, _ = warehouse
    built, _ = one_day_chunks
    runs = query(con, "SELECT count(DISTINCT run_id) FROM usage_events WHERE task = 'summarize_ticket'").item()
    summarize = built["task_daily"].filter(pl.col("task") == "summarize_ticket")
    # Every run_id counted once: no run lost at a chunk edge and none counted on both days it touched.
    assert summarize["runs"].sum() == runs
    retries = built["waste"].filter(
        (pl.col("category") == "retries") & (pl.col("day") == date(2026, 11, 11)) & (pl.col("team") == "support")
        & (pl.col("model") == "gpt-4o-mini") & (pl.col("task") == "summarize_ticket")
    )
    assert retries.height == 1 and retries["requests"].item() >= 1


def test_chunks_cover_the_window_whole_days_within_the_limit(warehouse):
    con, _ = warehouse
    window = reads.span(con, "usage_events", "event_time")
    per_day = dict(con.execute("SELECT event_time::DATE, count(*) FROM usage_events GROUP BY 1").fetchall())
    for limit in (1, 50, 400, 10**9):
        parts = reads.day_chunks(con, window, max_rows=limit)
        assert parts[0][0] == window[0] and parts[-1][1] == window[1]
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))  # contiguous, no gap, no overlap
        for start, end in parts:
            held = sum(n for d, n in per_day.items() if start <= d < end)
            assert held <= limit or (end - start).days == 1
    assert len(reads.day_chunks(con, window, max_rows=10**9)) == 1


def test_a_chunk_reads_only_its_own_runs_from_the_days_either_side(warehouse):
    """`runs_in` hands a chunk all its days' events plus, from a day either side, the events of the runs those
    days hold (by run_id, else request_id), and nothing else of the margin days."""
    con, _ = warehouse
    window = (date(2026, 11, 11), date(2026, 11, 12))
    columns = ["event_time", "run_id", "request_id"]
    got = reads.runs_in(con, window, columns).collect()
    events = query(con, "SELECT event_time, run_id, request_id FROM usage_events").with_columns(
        pl.coalesce("run_id", "request_id").alias("key"), pl.col("event_time").dt.date().alias("day"))
    inside = events.filter(pl.col("day").is_between(*window, closed="left"))
    keys = inside["key"].drop_nulls()
    around = events.filter(pl.col("day").is_in([date(2026, 11, 10), date(2026, 11, 12)]) & pl.col("key").is_in(keys))
    want = pl.concat([inside, around]).select(columns)
    assert around.height >= 2  # the midnight run's two requests of the day before, at least
    assert events.filter(pl.col("day") == date(2026, 11, 10)).height > around.height  # the margin was cut
    assert_frame_equal(got.sort(columns, nulls_last=True), want.sort(columns, nulls_last=True))


def test_per_source_sums_built_by_day_add_up_to_the_events(warehouse, one_day_chunks):
    """source_daily (what the usage checks and the run's summary read) holds, per source, the events' own
    totals: rows, requests, unpriced requests, tokens priced and not, cost and the newest event."""
    con, config = warehouse
    built = marts.build(con, config, "source_daily")
    assert built.select(pl.col("day").n_unique()).item() >= 10
    by_source = query(con, """
        SELECT x_source, sum("rows") AS n, sum(requests) AS requests, sum(unpriced_requests) AS unpriced,
               sum(priced_tokens) AS priced_tokens, sum(unpriced_tokens) AS unpriced_tokens, sum(cost_usd) AS cost,
               max(newest) AS newest
        FROM source_daily GROUP BY 1 ORDER BY 1""")
    want = query(con, """
        SELECT x_source, count(*) AS n, sum(request_count) AS requests,
               sum(request_count) FILTER (WHERE cost_usd IS NULL) AS unpriced,
               sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens)
                   FILTER (WHERE cost_usd IS NOT NULL) AS priced_tokens,
               sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens)
                   FILTER (WHERE cost_usd IS NULL) AS unpriced_tokens,
               sum(cost_usd) AS cost, max(event_time) AS newest
        FROM usage_events GROUP BY 1 ORDER BY 1""")
    assert by_source.height == want.height >= 3
    assert_frame_equal(by_source, want, check_dtypes=False, check_exact=False, rel_tol=1e-9)


def test_a_build_over_many_chunks_reports_every_tenth_and_the_last(warehouse):
    """A first load builds each mart over the whole history (minutes at 100M events): it says how far it got,
    about ten times, as a load does, and a one-chunk build (a daily run) says nothing."""
    con, config = warehouse
    heard: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reads, "MAX_CHUNK_EVENTS", 50)
        parts = reads.day_chunks(con, reads.span(con, "usage_events", "event_time"))
        marts.build(con, config, "usage_daily", log=heard.append)
    step = len(parts) // 10 or 1
    numbers = [n for n in range(1, len(parts) + 1) if n % step == 0 or n == len(parts)]
    assert heard == [f"usage_daily: built through {parts[n - 1][1] - timedelta(days=1)} ({n}/{len(parts)} chunks)"
                     for n in numbers]
    assert len(parts) >= 10 and 10 <= len(heard) <= 11
    quiet: list[str] = []
    marts.build(con, config, "usage_daily", (date(2026, 11, 12), date(2026, 11, 13)), log=quiet.append)
    assert quiet == []


def test_a_chunk_counts_the_same_re_attempts_from_its_failed_runs_of_the_day_before(tmp_path):
    """waste reads a chunk's events and, from the day before, only the runs that failed there (`retries_in`):
    each day's re-attempts are those `runs_in`'s wider read gives, and the ones worked out by hand below."""

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, minute)

    rows = [
        # (time, task, run_id, status)
        (at(10, 23), "a", "r1", "error"), (at(11, 1), "a", "r1", "ok"),      # re-attempt on the 11th
        (at(10, 20), "b", "r2", "error"), (at(10, 21), "b", "r2", "ok"),     # re-attempt on the 10th ...
        (at(11, 2), "b", "r2", "ok"),                                          # ... then an ordinary next step
        (at(10, 22), "c", "r3", "ok"), (at(11, 3), "c", "r3", "ok"),         # no failure the day before
        (at(11, 4), "c", "r3", "error"), (at(11, 5), "c", "r3", "ok"),       # re-attempt on the 11th
        (at(10, 23, 30), "d", "s", "error"), (at(11, 0, 30), "e", "s", "ok"),  # another task's run "s"
        (at(11, 23, 50), "f", "r5", "error"), (at(12, 0, 10), "f", "r5", "ok"),  # re-attempt on the 12th
        (at(11, 6), "g", None, "error"), (at(11, 7), "g", None, "ok"),       # no run: never a re-attempt
        (at(9, 12), "h", "r6", "error"), (at(11, 8), "h", "r6", "ok"),       # two days apart: cut at the margin
    ]
    events = conform(pl.DataFrame(
        {"event_time": [r[0] for r in rows], "task": [r[1] for r in rows], "run_id": [r[2] for r in rows],
         "request_id": [f"q{i}" for i in range(len(rows))], "status": [r[3] for r in rows], "provider": "openai",
         "model": "m", "team": "t", "request_count": 1, "input_tokens": 10, "output_tokens": 1,
         "cache_read_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": False,
         "cost_usd": 0.5, "x_source": "test", "x_source_file": "f"}
    ), USAGE_EVENTS)
    con = connect_writer(tmp_path / "w.duckdb")
    columns = marts.EVENT_COLUMNS["waste"]
    no_lines = pl.LazyFrame(schema=query(con, "SELECT * FROM cost_lines LIMIT 0").schema)
    no_prices = pl.LazyFrame(schema=query(con, "SELECT * FROM prices LIMIT 0").schema)
    no_tasks = pl.LazyFrame(schema=query(con, "SELECT * FROM tasks LIMIT 0").schema)

    def retries_of(frame: pl.LazyFrame, day: date) -> list[tuple]:
        counted = waste(frame, no_lines, no_tasks, no_prices).filter(
            (pl.col("category") == "retries") & (pl.col("day") == day)).collect()
        return sorted(zip(counted["day"], counted["task"], counted["requests"]))

    try:
        replace_rows(con, "usage_events", events, where={"x_source_file": "f"})
        got, wider = [], []
        for day in (date(2026, 11, d) for d in range(9, 13)):
            window = (day, day + timedelta(days=1))
            got += retries_of(reads.retries_in(con, window, columns), day)
            wider += retries_of(reads.runs_in(con, window, columns), day)
    finally:
        con.close()
    assert got == wider == [(date(2026, 11, 10), "b", 1), (date(2026, 11, 11), "a", 1),
                            (date(2026, 11, 11), "c", 1), (date(2026, 11, 12), "f", 1)]
