"""dashboard.data against plain DuckDB SQL over hand-made snapshot files.

`write_snapshot` is also what the browser test serves, so both tests look at the same numbers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard import data
from tests.support.snapshots import LAST_DAY, write_snapshot
from warehouse.schema import table_schema


def sql_one(statement: str, params: list) -> tuple:
    with duckdb.connect() as con:
        return con.execute(statement, params).fetchone()


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    return write_snapshot(tmp_path_factory.mktemp("dash-data"))


def test_default_period_is_the_last_30_days_of_data(snapshot):
    assert data.default_period(snapshot) == data.Period(date(2026, 3, 2), LAST_DAY)
    assert data.Period(date(2026, 3, 2), LAST_DAY).previous() == data.Period(date(2026, 1, 31), date(2026, 3, 1))


@pytest.mark.parametrize(
    "period", [data.Period(date(2026, 3, 2), LAST_DAY), data.Period(date(2026, 1, 1), date(2026, 1, 1))]
)
def test_billed_spend_matches_sql_per_currency(snapshot, period):
    got = data.billed_spend(snapshot, period)
    path = str(snapshot / "spend_daily.parquet")
    for currency in ("USD", "EUR"):
        billed, ai = sql_one(
            "SELECT sum(billed_cost), sum(CASE WHEN is_ai THEN billed_cost ELSE 0 END) FROM read_parquet(?) "
            "WHERE billing_currency = ? AND day >= ? AND day <= ?",
            [path, currency, period.start, period.end],
        )
        row = got.filter(pl.col("billing_currency") == currency)
        assert row["billed_cost"].item() == pytest.approx(billed)
        assert row["ai_billed_cost"].item() == pytest.approx(ai)
    assert got["billing_currency"].to_list() == ["USD", "EUR"]


def test_billed_spend_in_the_reporting_currency_and_the_finance_views(snapshot):
    period = data.Period(date(2026, 3, 2), LAST_DAY)
    got = data.billed_spend(snapshot, period)
    eur = got.filter(pl.col("billing_currency") == "EUR").row(0, named=True)
    assert eur["billed_cost_reporting"] == pytest.approx(30 * 2.0 * 1.25)  # euros at the fixture's 1.25
    assert data.reporting_currency(snapshot) == "USD"
    mtd = data.month_to_date(snapshot)
    assert mtd["provider"].to_list() == ["openai", "anthropic"] and mtd["expected_rest"].sum() == 32.0
    assert data.month_to_date(snapshot, "anthropic")["unpriced_requests"].to_list() == [3]
    closed = data.closed_months(snapshot)
    # February: two lines changed since its close, +2.50 and +4.00; January: nothing.
    assert closed.select("month", "changed_lines", "change_amount").rows() == [
        (date(2026, 2, 1), 2, 6.5), (date(2026, 1, 1), 0, 0.0)]
    assert data.changes_after_close(snapshot)["x_line_id"].to_list() == ["cur-90", "cur-17"]  # largest first
    fx = data.fx_coverage(snapshot).row(0, named=True)
    # Mistral bills in EUR every day to 2026-03-31; the newest EUR rate is 2026-03-20: 11 days after it.
    assert (fx["billing_currency"], fx["newest_rate_day"], fx["days_after_newest_rate"]) == \
        ("EUR", date(2026, 3, 20), 11)
    assert data.reporting_currency(snapshot.parent / "no-snapshot-yet") == "USD"


def test_billed_spend_hand_computed_single_day(snapshot):
    # 2026-01-01 is day index 0, odd day of month: OpenAI 10 + Bedrock 20 + EC2 5 + Anthropic 3.25 = 38.25 USD.
    got = data.billed_spend(snapshot, data.Period(date(2026, 1, 1), date(2026, 1, 1)))
    usd = got.filter(pl.col("billing_currency") == "USD")
    assert usd["billed_cost"].item() == pytest.approx(38.25)
    assert usd["ai_billed_cost"].item() == pytest.approx(33.25)


def test_provider_filter_and_daily_chart_frame(snapshot):
    period = data.Period(date(2026, 3, 15), date(2026, 3, 21))
    only_aws = data.billed_spend(snapshot, period, provider="aws")  # the genai-prices id, as on every page
    expected = sql_one(
        "SELECT sum(billed_cost) FROM read_parquet(?) WHERE provider = 'Amazon Web Services' "
        "AND day >= ? AND day <= ?",
        [str(snapshot / "spend_daily.parquet"), period.start, period.end],
    )[0]
    assert only_aws["billing_currency"].to_list() == ["USD"]
    assert only_aws["billed_cost"].item() == pytest.approx(expected)

    # The chart is in the reporting currency: every currency's lines at their rate (Mistral's euros at 1.25).
    daily = data.daily_billed_by_provider(snapshot, period, "USD")
    ids = "CASE provider WHEN 'Amazon Web Services' THEN 'aws' ELSE lower(provider) END"
    with duckdb.connect() as con:
        want = con.sql(
            f"SELECT day, {ids} AS provider, sum(billed_cost_reporting) AS billed_cost FROM read_parquet(?) "
            "WHERE day >= ? AND day <= ? GROUP BY ALL ORDER BY day, provider",
            params=[str(snapshot / "spend_daily.parquet"), period.start, period.end],
        ).pl()
    assert_frame_equal(daily, want, check_dtypes=False)
    assert daily.height == 7 * 3 + 4  # OpenAI, AWS and Mistral every day, Anthropic on the odd days 15 .. 21
    mistral = daily.filter(daily["provider"] == "mistral")["billed_cost"].to_list()
    assert mistral == [2.0 * 1.25] * 7
    assert data.providers(snapshot) == ["anthropic", "aws", "mistral", "openai"]


def test_usage_summary_counts_unpriced_as_unknown(snapshot):
    period = data.Period(date(2026, 3, 2), LAST_DAY)
    got = data.usage_summary(snapshot, period).row(0, named=True)
    # 30 days x (40 + 25 + 7) requests, 30 x (5 + 7) unpriced, 30 x (1.5 + 2.25) priced dollars.
    assert got["requests"] == 30 * 72
    assert got["unpriced_requests"] == 30 * 12
    assert got["priced_cost_usd"] == pytest.approx(30 * 3.75)
    assert got["price_coverage"] == pytest.approx(60 / 72)
    team = data.usage_summary(snapshot, period, team="sales").row(0, named=True)
    assert (team["requests"], team["unpriced_requests"]) == (30 * 25, 30 * 5)


def test_task_table_matches_sql(snapshot):
    period = data.Period(date(2026, 3, 2), LAST_DAY)
    got = data.task_table(snapshot, period)
    with duckdb.connect() as con:
        want = con.sql(
            """
            WITH t AS (
                SELECT task, sum(runs)::BIGINT AS runs, sum(successes)::BIGINT AS successes, sum(ai_cost_usd) AS ai
                FROM read_parquet(?) WHERE day BETWEEN ? AND ? GROUP BY task)
            SELECT t.task, t.runs, t.successes, t.ai,
                   coalesce(t.successes * c.human_minutes / 60 * c.hourly_rate_usd, 0) AS avoided,
                   coalesce(t.runs * c.review_minutes / 60 * c.hourly_rate_usd, 0) AS review
            FROM t LEFT JOIN read_parquet(?) c USING (task)
            """,
            params=[str(snapshot / "task_daily.parquet"), period.start, period.end, str(snapshot / "tasks.parquet")],
        ).pl()
    assert set(got["task"]) == {"summarize_ticket", "draft_reply", "unattributed"}  # classify_email never ran
    for row in want.iter_rows(named=True):
        line = got.filter(pl.col("task") == row["task"]).row(0, named=True)
        assert (line["runs"], line["successes"]) == (row["runs"], row["successes"])
        assert line["success_rate"] == pytest.approx(row["successes"] / row["runs"])
        assert line["human_cost_avoided_usd"] == pytest.approx(row["avoided"])
        assert line["review_cost_usd"] == pytest.approx(row["review"])
        if row["ai"] is None:  # every request unpriced: cost unknown, so savings unknown, never $0
            assert line["ai_cost_usd"] is None and line["net_savings_usd"] is None
            continue
        net = row["avoided"] - row["ai"] - row["review"]
        assert line["ai_cost_usd"] == pytest.approx(row["ai"])
        assert line["net_savings_usd"] == pytest.approx(net)
        assert line["roi"] == pytest.approx(net / (row["ai"] + row["review"]))
        assert line["cost_per_success_usd"] == pytest.approx(row["ai"] / row["successes"])
    assert got.filter(pl.col("task") == "draft_reply")["net_savings_usd"].item() < 0
    # sorted by net savings on allocated cost, best first
    assert got["task"].to_list() == ["summarize_ticket", "unattributed", "draft_reply"]


def test_task_table_team_filter(snapshot):
    period = data.Period(date(2026, 3, 31), LAST_DAY)
    got = data.task_table(snapshot, period, team="support")
    assert got["task"].to_list() == ["summarize_ticket", "draft_reply"]
    # draft_reply for support on one day: 2 runs, 2 successes: 2 x 2/60 x 40 avoided, 2 x 3/60 x 40 review.
    draft = got.filter(pl.col("task") == "draft_reply").row(0, named=True)
    assert draft["human_cost_avoided_usd"] == pytest.approx(8 / 3)
    assert draft["review_cost_usd"] == pytest.approx(4.0)
    assert data.teams(snapshot) == ["sales", "support"]


def test_missing_snapshot_gives_empty_frames(tmp_path):
    empty = tmp_path / "no-snapshot-yet"
    period = data.Period(date(2026, 3, 1), date(2026, 3, 31))
    assert data.default_period(empty) is None
    assert data.billed_spend(empty, period).height == 0
    assert data.daily_billed_by_provider(empty, period, "USD").height == 0
    assert data.usage_summary(empty, period).height == 0
    assert data.task_table(empty, period).columns == list(table_schema("task_roi"))  # the mart's columns
    assert data.task_table(empty, period).height == 0
    assert data.providers(empty) == [] and data.teams(empty) == []
    f = data.Filters(period)
    for frame in (data.reconciliation(empty, f), data.waste_summary(empty, f), data.whatif(empty, f),
                  data.anomalies(empty, f), data.budgets(empty, f), data.forecast(empty), data.sources(empty),
                  data.quarantined(empty), data.model_usage(empty, f), data.unattributed(empty, f)):
        assert frame.height == 0


def test_quarantined_files_and_sources(snapshot):
    q = data.quarantined(snapshot)
    assert q["location"].to_list() == ["billing/2026-02.csv"]
    assert "row 17, column BilledCost" in q["error"][0]
    src = data.sources(snapshot).rows_by_key("source", named=True, unique=True)
    assert (src["billing"]["files"], src["billing"]["files_quarantined"], src["billing"]["rows"]) == (2, 1, 1200)


def test_model_usage_rate_and_waste(snapshot):
    f = data.Filters(data.Period(date(2026, 3, 2), LAST_DAY), provider="openai")
    models = data.model_usage(snapshot, f).rows_by_key("model", named=True, unique=True)
    # gpt-4o: 40 requests/day x 150 tokens, $1.50/day: $1.50 / 6,000 tokens = $250 per million
    assert models["gpt-4o"]["usd_per_mtok"] == pytest.approx(250.0)
    assert models["ft:custom"]["usd_per_mtok"] is None  # unpriced: unknown, not $0
    waste = data.waste_summary(snapshot, f).rows_by_key("category", named=True, unique=True)
    assert waste["failed_requests"]["cost_usd"] == pytest.approx(30 * 0.25)
    assert waste["batch_eligible"]["is_estimate"] and waste["batch_eligible"]["cost_usd"] == pytest.approx(15.0)


def test_cache_follows_a_new_snapshot(tmp_path):
    snap = write_snapshot(tmp_path)
    period = data.Period(date(2026, 3, 2), LAST_DAY)
    before = data.usage_summary(snap, period)["requests"][0]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("UPDATE usage_daily SET requests = requests * 2")
    from warehouse.db import export_snapshot

    export_snapshot(con, "usage_daily", snap)
    con.close()
    assert data.usage_summary(snap, period)["requests"][0] == 2 * before


def every_query(period: data.Period) -> dict:
    """Each query the pages call, with filters that find rows in the hand-made snapshot."""
    f = data.Filters(period)
    drill = data.Filters(period, task="summarize_ticket")
    return {
        "billed_spend": lambda s: data.billed_spend(s, period),
        "daily_billed_by_provider": lambda s: data.daily_billed_by_provider(s, period, "USD"),
        "usage_summary": lambda s: data.usage_summary(s, period),
        "forecast": lambda s: data.forecast(s),
        "budgets": lambda s: data.budgets(s, f),
        "anomalies": lambda s: data.anomalies(s, f),
        "task_table": lambda s: data.task_table(s, period),
        "task_trend": lambda s: data.task_trend(s, drill),
        "model_usage": lambda s: data.model_usage(s, f),
        "whatif": lambda s: data.whatif(s, f),
        "reconciliation": lambda s: data.reconciliation(s, f),
        "unattributed": lambda s: data.unattributed(s, f),
        "unpriced": lambda s: data.unpriced(s, f),
        "waste_summary": lambda s: data.waste_summary(s, f),
        "waste_detail": lambda s: data.waste_detail(s, f),
        "waste_daily": lambda s: data.waste_daily(s, f),
        "sources": data.sources,
        "quarantined": data.quarantined,
        "coverage": lambda s: data.coverage(s, period),
        "month_to_date": lambda s: data.month_to_date(s),
        "closed_months": data.closed_months,
        "changes_after_close": data.changes_after_close,
        "fx_coverage": data.fx_coverage,
    }


def test_a_missing_snapshot_gives_the_published_columns_and_types(snapshot, tmp_path):
    # Empty results are the same SQL over empty tables typed by the migrations (warehouse/schema.py): no result's
    # schema is written down anywhere, and a page gets the same columns and dtypes before the first run.
    for name, query in every_query(data.Period(date(2026, 3, 2), LAST_DAY)).items():
        published, missing = query(snapshot), query(tmp_path / "no-snapshot-yet")
        assert published.height > 0, name  # the hand-made data reaches every query
        assert missing.height == 0, name
        assert missing.schema == published.schema, name


def test_the_task_table_has_the_task_roi_marts_columns_and_types(snapshot):
    got = data.task_table(snapshot, data.Period(date(2026, 3, 2), LAST_DAY))
    assert dict(got.schema) == table_schema("task_roi")


def test_a_column_an_older_snapshot_lacks_reads_as_null(snapshot, tmp_path):
    older = tmp_path / "older-snapshot"
    older.mkdir()
    for path in snapshot.glob("*.parquet"):
        frame = pl.read_parquet(path)
        if path.stem == "waste":
            frame = frame.drop("explanation")  # as if a pipeline from before that column wrote it
        frame.write_parquet(older / path.name)
    f = data.Filters(data.Period(date(2026, 3, 2), LAST_DAY))
    got, want = data.waste_summary(older, f), data.waste_summary(snapshot, f)
    assert got["explanation"].null_count() == got.height == 2
    assert_frame_equal(got.drop("explanation"), want.drop("explanation"))


def test_the_period_falls_back_from_invoices_to_logs_to_task_runs(snapshot, tmp_path):
    # Each daily mart cut to its own days; the first one published gives the range (invoices can arrive last).
    days = {"spend_daily": (date(2026, 3, 1), date(2026, 3, 10)), "usage_daily": (date(2026, 2, 1), date(2026, 2, 20)),
            "task_daily": (date(2026, 1, 5), date(2026, 1, 6))}
    for published in (("spend_daily", "usage_daily", "task_daily"), ("usage_daily", "task_daily"), ("task_daily",)):
        folder = tmp_path / published[0]
        folder.mkdir()
        for table in published:
            cut = pl.read_parquet(snapshot / f"{table}.parquet").filter(pl.col("day").is_between(*days[table]))
            cut.write_parquet(folder / f"{table}.parquet")
        assert data.day_range(folder) == days[published[0]]
