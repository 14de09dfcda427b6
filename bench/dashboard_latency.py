"""Dashboard latency at 10 million usage events: p50 and p95 per page load and per filter change.

    .venv/bin/python bench/dashboard_latency.py [--events 10000000] [--samples 15] [--workers 2]

The dashboard reads only the marts, so the warehouse is built at the marts' size a 10M-event history gives:
10M requests spread over 365 days x 6 providers/models x 40 tasks x 12 teams make usage_daily ~570k rows and
task_daily ~175k (DuckDB SQL, seconds), with spend_daily, allocated_cost, waste, anomalies and the small marts
at matching scale. `--raw` also writes the 10M usage_events themselves and builds usage_daily and task_daily
from them with the pipeline's own transforms (slow: minutes). Then the real server (`aispend dashboard`,
gunicorn) is timed from headless Chromium: a page load is goto -> network idle (layout callback and figures
rendered); a filter change is a click on a period preset -> network idle.

Times are measured to when the page is ready, not to when network idle fires (Playwright waits 500 ms of quiet
to call the network idle; that wait is not the dashboard's): ready = the later of the last response's end and
the last change to the page's DOM (plotly drawing included), from the goto or the click. Each Dash callback
(`POST /_dash-update-component`) is also timed from the browser's network events (request sent -> response
received: server work, payload and transfer), so a slow page shows whether the server or the browser is slow.
`--snapshot DIR` reuses a snapshot folder an earlier run kept with `--keep DIR`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PAGES = ["/", "/tasks", "/tasks?task=task_07", "/models", "/reconciliation", "/waste", "/health"]

MARTS_SQL = """
CREATE TEMP TABLE dims AS
SELECT d::DATE AS day, row_number() OVER () AS i FROM generate_series(DATE '2025-11-16', DATE '2026-11-15', INTERVAL 1 DAY) t(d);
INSERT INTO usage_daily BY NAME
SELECT day, p.provider, p.model, 'task_' || lpad(k::VARCHAR, 2, '0') AS task, 'team_' || tm AS team,
       r AS requests, r // 20 AS error_requests, CASE WHEN p.model = 'mystery-model' THEN r ELSE 0 END AS unpriced_requests,
       r * 900 AS input_tokens, r * 300 AS cache_read_tokens, r * 20 AS cache_write_tokens, r * 250 AS output_tokens,
       0 AS reasoning_tokens, CASE WHEN p.model = 'mystery-model' THEN 0 ELSE r * 1470 END AS priced_tokens,
       r * 1470 AS total_tokens, CASE WHEN p.model = 'mystery-model' THEN NULL ELSE r * p.rate END AS cost_usd
FROM dims, range(40) k(k), range(12) tm(tm),
     (VALUES ('openai', 'gpt-4.1', 0.004), ('openai', 'gpt-4.1-mini', 0.0008), ('anthropic', 'claude-sonnet-4-0', 0.006),
             ('aws', 'claude-3-5-haiku', 0.0015), ('google', 'gemini-2.5-flash', 0.0006), ('anthropic', 'mystery-model', 0))
     p(provider, model, rate),
     LATERAL (SELECT ((hash(day, k, tm, p.model) % 7) + 1)::BIGINT * 6 AS r)
WHERE tm = k % 12 OR (hash(k, tm) % 3 = 0);
INSERT INTO task_daily BY NAME
SELECT day, task, team, sum(requests) // 3 AS runs, sum(requests) * 8 // 30 AS successes,
       sum(requests) // 30 AS failures, sum(requests) AS requests, sum(error_requests) AS error_requests,
       sum(unpriced_requests) AS unpriced_requests, sum(cost_usd) AS ai_cost_usd, sum(cost_usd) * 1.1 AS allocated_cost_usd
FROM usage_daily GROUP BY day, task, team;
INSERT INTO tasks BY NAME
SELECT 'task_' || lpad(k::VARCHAR, 2, '0') AS task, 'Synthetic task ' || k AS description, 5.0 + k AS human_minutes,
       60.0 AS hourly_rate_usd, 1.0 AS review_minutes, k % 2 = 0 AS latency_sensitive, NULL AS eligible_models
FROM range(40) t(k);
INSERT INTO spend_daily BY NAME
SELECT day, p.name AS provider, p.service AS service_name, 'AI and Machine Learning' AS service_category,
       'acct-' || a AS sub_account_id, p.model, 'Usage' AS charge_category, true AS is_ai, 'USD' AS billing_currency,
       20 + (hash(day, a, p.model) % 100) / 10.0 AS billed_cost, 18 + (hash(day, a, p.model) % 100) / 10.0 AS effective_cost,
       24 AS line_count
FROM dims, range(20) a(a),
     (VALUES ('OpenAI', 'OpenAI API', 'gpt-4.1'), ('Anthropic', 'Claude API', 'claude-sonnet-4-0'),
             ('Amazon Web Services', 'Amazon Bedrock', 'claude-3-5-haiku'), ('Google Cloud', 'Vertex AI', 'gemini-2.5-flash'))
     p(name, service, model);
INSERT INTO allocated_cost BY NAME
SELECT day, provider, model, task, team, 'usage_share' AS basis, cost_usd * 1.1 AS billed_cost_usd, cost_usd AS effective_cost_usd
FROM usage_daily WHERE cost_usd IS NOT NULL;
INSERT INTO reconciliation BY NAME
SELECT provider, model, date_trunc('month', day)::DATE AS month, day, sum(cost_usd) * 1.1 AS billed_cost_usd,
       sum(cost_usd) AS logged_cost_usd, sum(cost_usd) * 0.1 AS difference_usd, 100 * 0.1 / 1.1 AS difference_pct,
       0.0 AS credits_usd, 0.0 AS discount_usd, 0.0 AS unpriced_models_usd, sum(cost_usd) * 0.08 AS missing_from_logs_usd,
       0.0 AS missing_from_invoice_usd, sum(cost_usd) * 0.02 AS unexplained_usd, 10 AS invoice_lines, 0 AS non_usd_lines,
       sum(requests) AS logged_requests, sum(unpriced_requests) AS unpriced_requests
FROM usage_daily GROUP BY ALL;
INSERT INTO waste BY NAME
SELECT day, c.category, provider, model, task, team, error_requests AS requests, cost_usd * c.f AS affected_cost_usd,
       cost_usd * c.f * c.g AS cost_usd, c.est AS is_estimate, c.category || ' explained' AS explanation
FROM usage_daily, (VALUES ('failed_requests', 0.05, 1.0, false), ('retries', 0.03, 1.0, false),
                          ('batch_eligible', 0.5, 0.5, true), ('caching_opportunity', 0.4, 0.3, true)) c(category, f, g, est);
INSERT INTO anomalies BY NAME
SELECT day, provider, model, team, sum(cost_usd) AS cost_usd, sum(cost_usd) * 0.9 AS baseline_usd, 0.1 AS mad_usd,
       28 AS history_days, 1.0 AS score, hash(day, provider, model, team) % 97 = 0 AS is_anomaly,
       CASE WHEN hash(day, provider, model, team) % 97 = 0 THEN 'spike' END AS direction
FROM usage_daily GROUP BY day, provider, model, team;
INSERT INTO model_whatif BY NAME
SELECT task, provider, model, 'openai' AS alt_provider, 'gpt-4.1-mini' AS alt_model, false AS is_eligible_listed,
       sum(requests) AS requests, sum(unpriced_requests) AS unpriced_requests, 0 AS input_tokens, 0 AS cache_read_tokens,
       0 AS cache_write_tokens, 0 AS output_tokens, sum(cost_usd) AS current_cost_usd, sum(cost_usd) * 0.3 AS alt_cost_usd,
       0 AS alt_unpriced_requests, sum(cost_usd) * 0.7 AS savings_usd, 0.7 AS savings_pct, false AS alt_cache_read_as_input,
       100 AS current_runs, 0.9 AS current_success_rate, 0.1 AS current_cost_per_success_usd, 0 AS alt_runs,
       NULL AS alt_success_rate, NULL AS alt_cost_per_success_usd
FROM usage_daily WHERE model <> 'gpt-4.1-mini' GROUP BY task, provider, model;
INSERT INTO budget_status BY NAME
SELECT 'total' AS budget, NULL AS team, NULL AS provider, 500000.0 AS monthly_usd, DATE '2026-11-01' AS month,
       DATE '2026-11-15' AS as_of, 'priced_usage' AS cost_basis, 200000.0 AS actual_usd, 410000.0 AS forecast_usd,
       40.0 AS actual_pct, 82.0 AS forecast_pct, [] AS thresholds_reached, NULL AS highest_threshold_pct,
       false AS forecast_over_budget, 'warning' AS status, 0 AS unpriced_requests;
INSERT INTO spend_forecast BY NAME
SELECT DATE '2026-11-01' AS month, DATE '2026-11-15' AS as_of, 'total' AS scope, NULL AS scope_value, 15 AS days_elapsed,
       15 AS days_remaining, 200000.0 AS actual_usd, 14 AS window_days, 13000.0 AS daily_median_usd, 12000.0 AS daily_low_usd,
       14000.0 AS daily_high_usd, 395000.0 AS forecast_usd, 380000.0 AS forecast_low_usd, 410000.0 AS forecast_high_usd;
INSERT INTO ingest_log BY NAME
SELECT 'app_logs' AS source, 'otel_genai' AS kind, 'logs/' || day || '.jsonl.gz' AS location, md5(day::VARCHAR) AS checksum,
       'v1' AS price_version, 27400 AS rows, 'loaded' AS status, NULL AS error, day::TIMESTAMP + INTERVAL 6 HOUR AS loaded_at
FROM dims;
"""


def build(root: Path) -> Path:
    from warehouse.db import SNAPSHOT_TABLES, connect_writer, export_snapshot

    started = time.monotonic()
    con = connect_writer(root / "bench.duckdb")
    con.execute(MARTS_SQL)
    snapshot = root / "snapshot"
    for table in SNAPSHOT_TABLES:
        export_snapshot(con, table, snapshot)
    requests, rows = con.execute("SELECT sum(requests), count(*) FROM usage_daily").fetchone()
    task_rows = con.execute("SELECT count(*) FROM task_daily").fetchone()[0]
    con.close()
    print(f"marts for {requests:,} requests: usage_daily {rows:,} rows, task_daily {task_rows:,} rows "
          f"(built in {time.monotonic() - started:.1f} s)")
    return snapshot


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# Records when the DOM last changed (the page is drawn by then), in the page's wall clock (ms since epoch).
LAST_CHANGE_JS = """
window.__lastChange = Date.now();
new MutationObserver(() => { window.__lastChange = Date.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""


class Network:
    """Responses seen by one page: end time (epoch ms) of each, and the duration of each Dash callback."""

    def __init__(self, page):
        self.ends: list[float] = []
        self.callbacks: list[float] = []
        page.on("requestfinished", self._finished)

    def _finished(self, request) -> None:
        timing = request.timing
        if timing.get("responseEnd", -1) < 0:
            return
        self.ends.append(timing["startTime"] + timing["responseEnd"])
        if request.method == "POST" and "/_dash-update-component" in request.url:
            self.callbacks.append(timing["responseEnd"] - max(timing.get("requestStart", 0), 0))

    def mark(self) -> tuple[int, int]:
        return len(self.ends), len(self.callbacks)


def ready_ms(page, network: Network, started_epoch_ms: float, since: tuple[int, int]) -> float:
    """From the start to the later of the last response and the last DOM change (after network idle)."""
    page.wait_for_load_state("networkidle")
    last_change = page.evaluate("window.__lastChange || 0")
    last_response = max(network.ends[since[0]:], default=started_epoch_ms)
    return max(last_change, last_response) - started_epoch_ms


def measure(page, network: Network, url: str, samples: int) -> list[tuple[str, list[float]]]:
    """Per page: load times, filter-change times and the callbacks each made (ms)."""
    rows = []
    for path in PAGES:
        loads, filters, load_callbacks, filter_callbacks = [], [], [], []
        for i in range(samples):
            since = network.mark()
            start = time.time() * 1000
            page.goto(url + path)
            page.wait_for_selector(".page h1")
            loads.append(ready_ms(page, network, start, since))
            load_callbacks += network.callbacks[since[1]:]
            if path == "/health":
                continue
            preset = ["Last 7 days", "Last 30 days", "Last 90 days", "All data"][i % 4]
            since = network.mark()
            start = time.time() * 1000
            page.get_by_role("link", name=preset).first.click()
            page.wait_for_function("(n) => document.querySelector('.preset.active')?.innerText === n", arg=preset)
            filters.append(ready_ms(page, network, start, since))
            filter_callbacks += network.callbacks[since[1]:]
        rows.append(("page load " + path, loads))
        rows.append(("  its callbacks", load_callbacks))
        if filters:
            rows.append(("filter change " + path, filters))
            rows.append(("  its callbacks", filter_callbacks))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--snapshot", type=Path, help="reuse this snapshot folder instead of building one")
    parser.add_argument("--keep", type=Path, help="build the warehouse in this folder and keep it")
    args = parser.parse_args()
    from tests.browser import chromium, dash_server, open_page

    with tempfile.TemporaryDirectory(prefix="aispend-bench-") as tmp:
        if args.snapshot:
            snapshot = args.snapshot
        else:
            root = args.keep or Path(tmp)
            root.mkdir(parents=True, exist_ok=True)
            snapshot = build(root)
        with dash_server(snapshot, Path(tmp), workers=args.workers) as url, chromium() as browser:
            page, console = open_page(browser)
            page.add_init_script(LAST_CHANGE_JS)
            network = Network(page)
            for path in PAGES:  # warm: first figures, first reads
                page.goto(url + path)
                page.wait_for_load_state("networkidle")
            rows = measure(page, network, url, args.samples)
            print(f"{'what':38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'n':>5}")
            for what, values in rows:
                if values:
                    print(f"{what:38} {pct(values, .5):8.0f} {pct(values, .95):8.0f} {max(values):8.0f} {len(values):5}")
            if console.errors:
                print("console errors:", *console.errors, sep="\n")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
