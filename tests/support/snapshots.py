"""A small warehouse filled by SQL with hand-checkable marts, published as the dashboard's snapshot.

The dashboard's data and browser tests read it; every figure they expect is plain SQL over these rows.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from warehouse.db import connect_writer, export_snapshots

LAST_DAY = date(2026, 3, 31)

# 90 days of invoices: OpenAI grows by 0.5 a day, Bedrock cycles weekly, EC2 is flat non-AI spend,
# Anthropic bills on odd days only, Mistral bills in EUR (never added to USD as billed; in the reporting
# currency, USD, at a made-up 1.25 a euro), one credit is negative.
# effective_cost differs from billed_cost everywhere so a mix-up shows.
SPEND_SQL = """
INSERT INTO spend_daily
SELECT d::DATE, p.provider, p.service, NULL, 'acct-1', p.model, 'Usage', p.is_ai, p.currency,
       p.base + p.slope * i + p.weekly * (i % 7),
       (p.base + p.slope * i + p.weekly * (i % 7)) * 0.8,
       3,
       (p.base + p.slope * i + p.weekly * (i % 7)) * p.rate,
       (p.base + p.slope * i + p.weekly * (i % 7)) * 0.8 * p.rate,
       'USD'
FROM (SELECT d, row_number() OVER (ORDER BY d) - 1 AS i
      FROM generate_series(DATE '2026-01-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d)) days,
     (VALUES ('OpenAI', 'OpenAI API', 'gpt-4o', true, 'USD', 10.0, 0.5, 0.0, 1.0),
             ('Amazon Web Services', 'Amazon Bedrock', 'claude-sonnet-4', true, 'USD', 20.0, 0.0, 1.25, 1.0),
             ('Amazon Web Services', 'Amazon EC2', NULL, false, 'USD', 5.0, 0.0, 0.0, 1.0),
             ('Mistral', 'La Plateforme', 'mistral-large', true, 'EUR', 2.0, 0.0, 0.0, 1.25))
     p(provider, service, model, is_ai, currency, base, slope, weekly, rate);
INSERT INTO spend_daily
SELECT d::DATE, 'Anthropic', 'Claude API', NULL, 'org-1', 'claude-haiku-4', 'Usage', true, 'USD', 3.25, 3.0, 1,
       3.25, 3.0, 'USD'
FROM generate_series(DATE '2026-01-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d)
WHERE day(d) % 2 = 1;
INSERT INTO spend_daily VALUES
    (DATE '2026-03-20', 'Amazon Web Services', 'Amazon Bedrock', NULL, 'acct-1', NULL, 'Credit', true, 'USD',
     -40.0, -40.0, 1, -40.0, -40.0, 'USD');
"""

USAGE_SQL = """
INSERT INTO usage_daily
SELECT d::DATE, u.provider, u.model, u.task, u.team, u.requests, u.errors, u.unpriced,
       100 * u.requests, 0, 0, 50 * u.requests, 0, 150 * (u.requests - u.unpriced), 150 * u.requests, u.cost,
       'USD'
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
                        ai_cost_usd, allocated_cost_usd)
SELECT d::DATE, k.task, k.team, k.runs, k.successes, k.runs - k.successes, k.requests, 0, k.unpriced,
       k.cost + (day(d) % 3) * 0.1, coalesce(k.cost, 0.5) * 1.2 + (day(d) % 3) * 0.1
FROM generate_series(DATE '2026-01-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d),
     (VALUES ('summarize_ticket', 'support', 20, 18, 40, 0, 1.5),
             ('draft_reply', 'sales', 10, 7, 25, 5, 2.25),
             ('draft_reply', 'support', 2, 2, 4, 0, 0.5),
             ('unattributed', NULL, 7, 0, 7, 7, NULL))
     k(task, team, runs, successes, requests, unpriced, cost);
"""


# The newer marts: a few hand-made rows each (their columns are the migrations' contract).
MARTS_SQL = """
INSERT INTO allocated_cost BY NAME
SELECT d::DATE AS day, 'aws' AS provider, NULL AS model, 'unattributed' AS task, NULL AS team,
       'not_model_usage' AS basis, 4.0 AS billed_cost_usd, 3.0 AS effective_cost_usd
FROM generate_series(DATE '2026-03-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d);
INSERT INTO reconciliation BY NAME
SELECT 'openai' AS provider, 'gpt-4o' AS model, DATE '2026-03-01' AS month, d::DATE AS day,
       12.0 AS billed_cost_usd, 10.0 AS logged_cost_usd, 2.0 AS difference_usd, 100 * 2.0 / 12 AS difference_pct,
       0.0 AS credits_usd, -0.5 AS discount_usd, 0.0 AS unpriced_models_usd, 2.0 AS missing_from_logs_usd,
       0.0 AS missing_from_invoice_usd, 0.5 AS unexplained_usd, 3 AS invoice_lines, 0 AS non_usd_lines,
       40 AS logged_requests, 0 AS unpriced_requests
FROM generate_series(DATE '2026-03-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d);
INSERT INTO waste BY NAME
SELECT d::DATE AS day, c.category, 'openai' AS provider, 'gpt-4o' AS model, 'summarize_ticket' AS task,
       'support' AS team, c.requests, c.affected AS affected_cost_usd, c.cost AS cost_usd, c.is_estimate,
       c.explanation
FROM generate_series(DATE '2026-03-01', DATE '2026-03-31', INTERVAL 1 DAY) t(d),
     (VALUES ('failed_requests', 1, 0.25, 0.25, false, 'Priced cost of failed requests.'),
             ('batch_eligible', 30, 1.0, 0.5, true, 'Estimated saving with the batch API.'))
     c(category, requests, affected, cost, is_estimate, explanation);
INSERT INTO anomalies BY NAME
SELECT DATE '2026-03-30' AS day, 'openai' AS provider, 'gpt-4o' AS model, 'support' AS team, 9.0 AS cost_usd,
       1.5 AS baseline_usd, 0.1 AS mad_usd, 28 AS history_days, 8.0 AS score, true AS is_anomaly, 'spike' AS direction;
INSERT INTO budget_status BY NAME
SELECT 'total' AS budget, NULL AS team, NULL AS provider, 200.0 AS monthly_usd, DATE '2026-03-01' AS month,
       DATE '2026-03-31' AS as_of, 'priced_usage' AS cost_basis, 116.25 AS actual_usd, 116.25 AS forecast_usd,
       58.125 AS actual_pct, 58.125 AS forecast_pct, [50] AS thresholds_reached, 50 AS highest_threshold_pct,
       false AS forecast_over_budget, 'ok' AS status, 372 AS unpriced_requests;
INSERT INTO spend_forecast BY NAME
SELECT DATE '2026-03-01' AS month, DATE '2026-03-31' AS as_of, 'total' AS scope, NULL AS scope_value,
       31 AS days_elapsed, 0 AS days_remaining, 150.0 AS actual_usd, 14 AS window_days, 5.0 AS daily_median_usd,
       4.0 AS daily_low_usd, 6.0 AS daily_high_usd, 150.0 AS forecast_usd, 150.0 AS forecast_low_usd,
       150.0 AS forecast_high_usd;
INSERT INTO model_whatif BY NAME
SELECT 'summarize_ticket' AS task, 'openai' AS provider, 'gpt-4o' AS model, 'openai' AS alt_provider,
       'gpt-4o-mini' AS alt_model, true AS is_eligible_listed, 3600 AS requests, 0 AS unpriced_requests,
       135.0 AS current_cost_usd, 8.1 AS alt_cost_usd, 126.9 AS savings_usd, 0.94 AS savings_pct,
       1800 AS current_runs, 0.9 AS current_success_rate, 0.08 AS current_cost_per_success_usd,
       0 AS alt_runs, NULL AS alt_success_rate, NULL AS alt_cost_per_success_usd, false AS alt_cache_read_as_input;
INSERT INTO month_to_date BY NAME
SELECT * FROM (VALUES
    ('openai', 100.0, 20.0, 0, 1.1, 1.0, 1.2, 2, 'closed_months', 22.0, 20.0, 24.0),
    ('anthropic', 0.0, 10.0, 3, 1.0, 1.0, 1.0, 0, 'none', 10.0, 10.0, 10.0))
    t(provider, invoiced_cost, uninvoiced_logged_cost, unpriced_requests, ratio, ratio_low, ratio_high,
      ratio_months, ratio_basis, expected_rest, expected_rest_low, expected_rest_high),
    (SELECT DATE '2026-03-01' AS month, DATE '2026-03-31' AS as_of, 'USD' AS currency);
INSERT INTO closed_months VALUES
    (DATE '2026-02-01', 'Dana', TIMESTAMP '2026-03-03 09:00:00', 'USD', 1234.5, 1200.0, 140),
    (DATE '2026-01-01', 'Dana', TIMESTAMP '2026-02-02 09:00:00', 'USD', 1100.0, 1090.0, 150);
INSERT INTO changes_after_close BY NAME
SELECT * FROM (VALUES
    ('changed', 'cur-17', 'aws', 'claude-sonnet-4', DATE '2026-02-11', 'USD', 10.0, 12.5, 2.5, 2.5),
    ('added', 'cur-90', 'aws', 'claude-sonnet-4', DATE '2026-02-27', 'USD', NULL, 4.0, 4.0, 4.0))
    t(change, x_line_id, provider, model, charge_day, billing_currency, closed_billed_cost, current_billed_cost,
      billed_change, billed_change_reporting),
    (SELECT DATE '2026-02-01' AS month, 'USD' AS currency, 'billing/2026-02.csv' AS x_source_file);
INSERT INTO fx_rates VALUES
    ('EUR', DATE '2026-03-19', 1.24, 'USD', 'ECB reference rates (test)'),
    ('EUR', DATE '2026-03-20', 1.25, 'USD', 'ECB reference rates (test)');
INSERT INTO ingest_log BY NAME
SELECT * FROM (VALUES
    ('billing', 'focus', 'billing/2026-03.csv', 'abc', NULL, 1200, 'loaded', NULL, TIMESTAMP '2026-04-01 06:00:00'),
    ('billing', 'focus', 'billing/2026-02.csv', 'def', NULL, 0, 'quarantined',
     'billing/2026-02.csv row 17, column BilledCost: not a number', TIMESTAMP '2026-04-01 06:00:01'),
    ('app_logs', 'otel_genai', 'logs/2026-03-31.jsonl', '123', 'v1', 2160, 'loaded', NULL,
     TIMESTAMP '2026-04-01 06:00:02'))
    t(source, kind, location, checksum, price_version, rows, status, error, loaded_at);
"""


# Measured time saved (docs/evidence.md): one task measured on elapsed minutes, so it has a verdict but no money
# and every ROI figure above stays the catalog's estimate.
EVIDENCE_SQL = """
INSERT INTO evidence_items BY NAME
SELECT 'DR-' || i AS work_item_id, 'draft_reply' AS task, 'sales' AS team, DATE '2026-03-01' + CAST(i % 30 AS INTEGER) AS day,
       date_trunc('week', DATE '2026-03-01' + CAST(i % 30 AS INTEGER))::DATE AS week, NULL AS handling_minutes,
       60.0 + i % 7 + CASE WHEN i % 2 = 0 THEN 0 ELSE 20 END AS elapsed_minutes, 'elapsed' AS minutes_basis,
       60.0 + i % 7 + CASE WHEN i % 2 = 0 THEN 0 ELSE 20 END AS minutes, i % 2 = 0 AS ai_assisted,
       CASE WHEN i % 2 = 0 THEN 'linked_run' ELSE 'none' END AS ai_basis, (i + 1) % 2 AS linked_requests,
       NULL AS linked_cost_usd, i % 5 = 0 AS reopened, NULL AS escalated, NULL AS reverted, NULL AS csat,
       true AS in_period
FROM range(40) t(i);
INSERT INTO task_evidence BY NAME
SELECT 'draft_reply' AS task, NULL AS team, 'task' AS grain, DATE '2026-03-01' AS period_start,
       DATE '2026-03-30' AS period_end, 'elapsed' AS minutes_basis, 20 AS items_ai, 20 AS items_baseline,
       20 AS items_linked, DATE '2026-03-01' AS first_ai_day, 63.0 AS mean_minutes_ai, 83.0 AS mean_minutes_baseline,
       63.0 AS median_minutes_ai, 83.0 AS median_minutes_baseline, 20.0 AS minutes_saved, 18.7 AS minutes_saved_low,
       21.3 AS minutes_saved_high, 0.95 AS confidence, 'welch_t' AS interval_method, 'concurrent' AS method,
       'saves_time' AS verdict, 0.2 AS reopen_rate_ai, 0.2 AS reopen_rate_baseline, 0.0 AS reopen_rate_change,
       -0.26 AS reopen_rate_change_low, 0.26 AS reopen_rate_change_high, NULL AS quality_flag,
       40.0 AS hourly_rate_usd, 70.0 AS ai_cost_usd, 30.0 AS review_cost_usd, 3.5 AS ai_cost_per_item_usd,
       1.5 AS review_cost_per_item_usd;
INSERT INTO task_evidence_weekly BY NAME
SELECT week, 'draft_reply' AS task, NULL AS team, 'task' AS grain,
       CAST(count(*) FILTER (WHERE ai_assisted) AS BIGINT) AS items_ai,
       CAST(count(*) FILTER (WHERE NOT ai_assisted) AS BIGINT) AS items_baseline,
       avg(ai_assisted::INT) AS ai_share,
       median(minutes) FILTER (WHERE ai_assisted) AS median_minutes_ai,
       median(minutes) FILTER (WHERE NOT ai_assisted) AS median_minutes_baseline
FROM evidence_items GROUP BY week;
"""

# People & seats: Ana's Copilot seat and API use in March, Bob's idle seat, pooled ChatGPT seats.
PEOPLE_SQL = """
INSERT INTO person_monthly BY NAME
SELECT * FROM (VALUES
    (DATE '2026-03-01', 'Ana Lima', 'support', true, 'github', 'business', 1, 19.0, 'plan_list_price', false,
     NULL, NULL, 19.0, 12.0, 0, 10, 5, 40, 100, 10, 2, 1, DATE '2026-03-30', false, 'Copilot seat last activity',
     19.0, 'enterprise', 39.0, 'underused'),
    (DATE '2026-03-01', 'Ana Lima', 'support', true, 'openai', 'api', 0, NULL, NULL, false, 4.5, 'logs', NULL, 4.5,
     0, 8, NULL, 30, NULL, NULL, NULL, NULL, DATE '2026-03-28', NULL, NULL, NULL, NULL, NULL, NULL),
    (DATE '2026-03-01', 'Bob King', 'support', true, 'github', 'business', 1, 19.0, 'plan_list_price', false, NULL,
     NULL, 19.0, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true, 'Copilot seat last activity', 19.0,
     'enterprise', 39.0, NULL),
    (DATE '2026-03-01', NULL, NULL, NULL, 'openai', 'business', 3, 90.0, 'subscriptions', false, NULL, NULL, 90.0,
     NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 30.0, 'enterprise', NULL, NULL))
    t(month, person, team, is_mapped, vendor, plan, seats, seat_cost_usd, seat_cost_basis, seat_on_invoice,
      usage_cost_usd, usage_cost_basis, not_on_bills_usd, api_equivalent_usd, unpriced_tokens, active_days,
      sessions, requests, lines_added, lines_removed, commits, pull_requests, last_activity_day, is_idle_seat,
      activity_evidence, plan_price_usd, next_plan, next_plan_price_usd, plan_fit);
INSERT INTO idle_seats BY NAME
SELECT DATE '2026-03-31' AS as_of, 'github' AS vendor, 'business' AS plan, 'Bob King' AS person, 'support' AS team,
       'bobk' AS identity, DATE '2026-01-01' AS seat_start, NULL AS last_activity_day, NULL AS days_idle,
       19.0 AS monthly_cost_usd, 'Copilot seat last activity' AS evidence;
"""


# The checks' latest verdicts (pipelines/checks.py): one error failing since the 30th, two passing.
CHECKS_SQL = """
INSERT INTO check_results VALUES
    ('no_null_cost_on_usage_lines', 'cost_lines', 'error', false,
     '2 usage line(s) lack a cost their export provides (it would count as $0)', 2,
     '{"source":"billing","file":"2026-03/focus.csv","x_line_id":"a1","BilledCost":null}' || chr(10)
     || '{"source":"billing","file":"2026-03/focus.csv","x_line_id":"a2","BilledCost":null}',
     TIMESTAMP '2026-04-01 06:00:00', TIMESTAMP '2026-03-30 06:00:00'),
    ('one_currency_per_account', 'cost_lines', 'error', true, 'every billing account has one currency', 0, NULL,
     TIMESTAMP '2026-04-01 06:00:00', TIMESTAMP '2026-01-02 06:00:00'),
    ('price_coverage', 'usage_events', 'warn', true, '91.4% of 6,480 requests priced', 0, NULL,
     TIMESTAMP '2026-04-01 06:00:00', TIMESTAMP '2026-01-02 06:00:00');
"""


def write_snapshot(root: Path) -> Path:
    """Build a warehouse under `root`, fill the marts by SQL, publish the snapshot; return its folder."""
    con = connect_writer(root / "warehouse.duckdb")
    for statement in (SPEND_SQL, USAGE_SQL, TASK_SQL, MARTS_SQL, EVIDENCE_SQL, PEOPLE_SQL, CHECKS_SQL):
        con.execute(statement)
    snapshot = root / "snapshot"
    export_snapshots(con, snapshot)
    con.close()
    return snapshot
