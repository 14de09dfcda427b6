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
from warehouse.db import connect_writer, export_snapshots

LAST_DAY = date(2026, 3, 31)

# 90 days of invoices: OpenAI grows by 0.5 a day, Bedrock cycles weekly, EC2 is flat non-AI spend,
# Anthropic bills on odd days only, Mistral bills in EUR (never added to USD), one credit is negative.
# effective_cost differs from billed_cost everywhere so a mix-up shows.
SPEND_SQL = """
INSERT INTO spend_daily
SELECT d::DATE, p.provider, p.service, NULL, 'acct-1', p.model, 'Usage', p.is_ai, p.currency,
       p.base + p.slope * i + p.weekly * (i % 7),
       (p.base + p.slope * i + p.weekly * (i % 7)) * 0.8,
       3
FROM (SELECT d, row_number() OVER (ORDER BY d) - 1 AS i
      FROM generate_series(DATE '2026-01-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d)) days,
     (VALUES ('OpenAI', 'OpenAI API', 'gpt-4o', true, 'USD', 10.0, 0.5, 0.0),
             ('Amazon Web Services', 'Amazon Bedrock', 'claude-sonnet-4', true, 'USD', 20.0, 0.0, 1.25),
             ('Amazon Web Services', 'Amazon EC2', NULL, false, 'USD', 5.0, 0.0, 0.0),
             ('Mistral', 'La Plateforme', 'mistral-large', true, 'EUR', 2.0, 0.0, 0.0))
     p(provider, service, model, is_ai, currency, base, slope, weekly);
INSERT INTO spend_daily
SELECT d::DATE, 'Anthropic', 'Claude API', NULL, 'org-1', 'claude-haiku-4', 'Usage', true, 'USD', 3.25, 3.0, 1
FROM generate_series(DATE '2026-01-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d)
WHERE day(d) % 2 = 1;
INSERT INTO spend_daily VALUES
    (DATE '2026-03-20', 'Amazon Web Services', 'Amazon Bedrock', NULL, 'acct-1', NULL, 'Credit', true, 'USD',
     -40.0, -40.0, 1);
"""

USAGE_SQL = """
INSERT INTO usage_daily
SELECT d::DATE, u.provider, u.model, u.task, u.team, u.requests, u.errors, u.unpriced,
       100 * u.requests, 0, 0, 50 * u.requests, 0, 150 * (u.requests - u.unpriced), 150 * u.requests, u.cost
FROM generate_series(DATE '2026-01-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d),
     (VALUES ('openai', 'gpt-4o', 'summarize_ticket', 'support', 40, 1, 0, 1.5),
             ('aws', 'claude-sonnet-4', 'draft_reply', 'sales', 25, 0, 5, 2.25),
             ('openai', 'ft:custom', 'unattributed', NULL, 7, 0, 7, NULL))
     u(provider, model, task, team, requests, errors, unpriced, cost);
"""

TASK_SQL = """
INSERT INTO tasks (task, description, human_minutes, hourly_rate_usd, review_minutes, latency_sensitive,
                   eligible_models) VALUES
    ('summarize_ticket', 'Summarize a support ticket', 12.0, 60.0, 1.0, false, NULL),
    ('draft_reply', 'Draft a sales reply', 2.0, 40.0, 3.0, true, NULL),
    ('classify_email', 'Route an inbound email', 1.0, 30.0, 0.0, false, NULL);
INSERT INTO task_daily (day, task, team, runs, successes, failures, requests, error_requests, unpriced_requests,
                        ai_cost_usd)
SELECT d::DATE, k.task, k.team, k.runs, k.successes, k.runs - k.successes, k.requests, 0, k.unpriced,
       k.cost + (day(d) % 3) * 0.1
FROM generate_series(DATE '2026-01-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d),
     (VALUES ('summarize_ticket', 'support', 20, 18, 40, 0, 1.5),
             ('draft_reply', 'sales', 10, 7, 25, 5, 2.25),
             ('draft_reply', 'support', 2, 2, 4, 0, 0.5),
             ('unattributed', NULL, 7, 0, 7, 7, NULL))
     k(task, team, runs, successes, requests, unpriced, cost);
"""


def write_snapshot(root: Path) -> Path:
    """Build a warehouse under `root`, fill the marts by SQL, publish the snapshot; return its folder."""
    con = connect_writer(root / "warehouse.duckdb")
    for statement in (SPEND_SQL, USAGE_SQL, TASK_SQL):
        con.execute(statement)
    snapshot = root / "snapshot"
    export_snapshots(con, snapshot)
    con.close()
    return snapshot


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


def test_billed_spend_hand_computed_single_day(snapshot):
    # 2026-01-01 is day index 0, odd day of month: OpenAI 10 + Bedrock 20 + EC2 5 + Anthropic 3.25 = 38.25 USD.
    got = data.billed_spend(snapshot, data.Period(date(2026, 1, 1), date(2026, 1, 1)))
    usd = got.filter(pl.col("billing_currency") == "USD")
    assert usd["billed_cost"].item() == pytest.approx(38.25)
    assert usd["ai_billed_cost"].item() == pytest.approx(33.25)


def test_provider_filter_and_daily_chart_frame(snapshot):
    period = data.Period(date(2026, 3, 15), date(2026, 3, 21))
    only_aws = data.billed_spend(snapshot, period, provider="Amazon Web Services")
    expected = sql_one(
        "SELECT sum(billed_cost) FROM read_parquet(?) WHERE provider = 'Amazon Web Services' "
        "AND day >= ? AND day <= ?",
        [str(snapshot / "spend_daily.parquet"), period.start, period.end],
    )[0]
    assert only_aws["billing_currency"].to_list() == ["USD"]
    assert only_aws["billed_cost"].item() == pytest.approx(expected)

    daily = data.daily_billed_by_provider(snapshot, period, "USD")
    with duckdb.connect() as con:
        want = con.sql(
            "SELECT day, provider, sum(billed_cost) AS billed_cost FROM read_parquet(?) "
            "WHERE billing_currency = 'USD' AND day >= ? AND day <= ? GROUP BY day, provider ORDER BY day, provider",
            params=[str(snapshot / "spend_daily.parquet"), period.start, period.end],
        ).pl()
    assert_frame_equal(daily, want, check_dtypes=False)
    assert daily.height == 7 * 2 + 4  # OpenAI and AWS every day, Anthropic on the odd days 15, 17, 19, 21
    assert data.providers(snapshot) == ["Amazon Web Services", "Anthropic", "Mistral", "OpenAI"]


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
    assert got["task"].to_list() == ["summarize_ticket", "draft_reply", "unattributed"]
    assert got.filter(pl.col("task") == "draft_reply")["net_savings_usd"].item() < 0


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
    assert data.task_table(empty, period).columns == data.TASK_TABLE_COLUMNS
    assert data.task_table(empty, period).height == 0
    assert data.providers(empty) == [] and data.teams(empty) == []
