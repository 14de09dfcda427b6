"""Alerts: due alerts from budget and anomaly frames, delivery to a real local webhook, dedupe, retries, secrecy."""

from __future__ import annotations

import json
import logging
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl
import pytest

from pipelines.alerts import alerts_sent_frame, pending_alerts, send_alerts
from pipelines.config import AlertConfig

ENV = "AISPEND_TEST_WEBHOOK"


class _Hook:
    """A webhook on 127.0.0.1 that records each JSON body and answers with the next queued status (else 200)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.statuses: list[int] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append(json.loads(body))
                hook.paths.append(self.path)
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/s3cr3tPathToken"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hook():
    h = _Hook()
    yield h
    h.server.shutdown()
    h.server.server_close()


def _budget(actual_pct: float, *, forecast_pct: float | None = None) -> pl.DataFrame:
    """One budget of $1,000 for October 2026 at `actual_pct` spent; thresholds 50/80/100 as budget_status makes."""
    forecast_pct = actual_pct if forecast_pct is None else forecast_pct
    reached = [t for t in (50, 80, 100) if actual_pct >= t]
    return pl.DataFrame({
        "budget": ["anthropic"], "team": [None], "provider": ["anthropic"], "monthly_usd": [1000.0],
        "month": [date(2026, 10, 1)], "as_of": [date(2026, 10, 10)], "cost_basis": ["priced_usage"],
        "actual_usd": [10.0 * actual_pct], "forecast_usd": [10.0 * forecast_pct],
        "forecast_low_usd": [10.0 * forecast_pct], "forecast_high_usd": [10.0 * forecast_pct],
        "actual_pct": [actual_pct], "forecast_pct": [forecast_pct], "thresholds_reached": [reached],
        "highest_threshold_pct": [max(reached) if reached else None], "forecast_over_budget": [forecast_pct > 100],
        "status": ["x"], "unpriced_requests": [0],
    }, schema_overrides={"team": pl.String, "highest_threshold_pct": pl.Int64,
                         "thresholds_reached": pl.List(pl.Int64)})


NO_ANOMALIES = pl.DataFrame(schema={"day": pl.Date, "provider": pl.String, "model": pl.String, "team": pl.String,
                                    "cost_usd": pl.Float64, "baseline_usd": pl.Float64, "score": pl.Float64,
                                    "is_anomaly": pl.Boolean, "direction": pl.String})


def _run(hook, budget, anomalies, sent, **kw):
    """One evaluation: what is due, deliver it, and the alerts_sent table after appending the results."""
    alerts = pending_alerts(budget, anomalies, sent, targets=[ENV])
    results = send_alerts(alerts, [AlertConfig(webhook_url_env=ENV)], environ={ENV: hook.url},
                          sleep=lambda s: None, **kw)
    return results, pl.concat([sent, alerts_sent_frame(results)])


def test_breach_posted_once_then_new_threshold_posts_again(hook):
    sent = alerts_sent_frame([])
    results, sent = _run(hook, _budget(85), NO_ANOMALIES, sent)
    # 85% reached 50 and 80: one message, for the highest threshold.
    assert [(r.alert_key, r.status, r.target) for r in results] == [
        ("budget:anthropic:2026-10:actual:80", "sent", ENV)]
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert body["text"].startswith("Budget anthropic: 80% reached")
    assert "$850.00 spent of $1,000.00" in body["blocks"][1]["text"]["text"]
    assert hook.paths == ["/services/T000/B000/s3cr3tPathToken"]

    # Same state again: nothing posted.
    results, sent = _run(hook, _budget(85), NO_ANOMALIES, sent)
    assert results == [] and len(hook.bodies) == 1

    # Spend restated down to 60%: 50 is below the 80 already sent, nothing posted.
    results, sent = _run(hook, _budget(60), NO_ANOMALIES, sent)
    assert results == [] and len(hook.bodies) == 1

    # 100% is a new threshold: posted once.
    results, sent = _run(hook, _budget(104), NO_ANOMALIES, sent)
    assert [r.alert_key for r in results] == ["budget:anthropic:2026-10:actual:100"]
    assert len(hook.bodies) == 2
    results, sent = _run(hook, _budget(104), NO_ANOMALIES, sent)
    assert results == [] and len(hook.bodies) == 2


def test_forecast_over_budget_alerts_once_and_not_after_actual_breach(hook):
    sent = alerts_sent_frame([])
    results, sent = _run(hook, _budget(40, forecast_pct=120), NO_ANOMALIES, sent)
    assert [r.alert_key for r in results] == ["budget:anthropic:2026-10:forecast:100"]
    results, sent = _run(hook, _budget(45, forecast_pct=125), NO_ANOMALIES, sent)
    assert results == []
    # Actual 100%: the threshold alert only, the forecast one is moot.
    alerts = pending_alerts(_budget(100, forecast_pct=130), NO_ANOMALIES, alerts_sent_frame([]))
    assert [a.key for a in alerts] == ["budget:anthropic:2026-10:actual:100"]


def test_server_error_retried_bounded_reported_not_recorded(hook, caplog):
    caplog.set_level(logging.DEBUG, logger="pipelines.alerts")
    hook.statuses = [500, 500, 500]
    sent = alerts_sent_frame([])
    results, sent = _run(hook, _budget(55), NO_ANOMALIES, sent, max_attempts=3)
    assert len(hook.bodies) == 3  # 3 attempts, no more
    (r,) = results
    assert (r.status, r.attempts, r.error) == ("failed", 3, "HTTP 500 after 3 attempts")
    # Recorded as failed, which does not dedupe: the next run posts it (and the webhook is back).
    results, sent = _run(hook, _budget(55), NO_ANOMALIES, sent)
    assert [(x.status, x.attempts) for x in results] == [("sent", 1)]
    assert len(hook.bodies) == 4
    assert sent["status"].to_list() == ["failed", "sent"]
    # The URL (its secret path, or even its port) is in no result, no row, no log line.
    for text in [repr(results), repr(r), str(sent.rows()), caplog.text]:
        assert "s3cr3tPathToken" not in text and hook.url not in text


def test_retry_then_success_and_4xx_not_retried(hook):
    hook.statuses = [503, 200]
    (r,) = send_alerts(pending_alerts(_budget(55), NO_ANOMALIES, []), [ENV], environ={ENV: hook.url},
                       sleep=lambda s: None)
    assert (r.status, r.attempts) == ("sent", 2)
    hook.statuses = [404]
    (r,) = send_alerts(pending_alerts(_budget(55), NO_ANOMALIES, []), [ENV], environ={ENV: hook.url},
                       sleep=lambda s: None)
    assert (r.status, r.attempts, r.error) == ("failed", 1, "HTTP 404")
    assert len(hook.bodies) == 3


def test_connection_refused_names_no_url():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    url = f"http://127.0.0.1:{port}/hook/s3cr3t"
    (r,) = send_alerts(pending_alerts(_budget(55), NO_ANOMALIES, []), [ENV], environ={ENV: url},
                       sleep=lambda s: None, max_attempts=2, timeout_s=2)
    assert (r.status, r.attempts, r.error) == ("failed", 2, "no response (ConnectionError) after 2 attempts")


def test_unset_variable_fails_by_name():
    (r,) = send_alerts(pending_alerts(_budget(55), NO_ANOMALIES, []), [AlertConfig(webhook_url_env="NOPE_X")],
                       environ={})
    assert (r.status, r.target, r.error) == ("failed", "NOPE_X", "environment variable NOPE_X is not set")


def test_anomaly_alerts_recent_spikes_only_and_per_target(hook):
    anomalies = pl.DataFrame({
        "day": [date(2026, 10, 1), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 10)],
        "provider": ["openai", "openai", "anthropic", "aws"],
        "model": ["gpt-4o", "gpt-4o", "claude-sonnet-4-0", "nova-pro"],
        "team": ["core", "core", None, "data"],
        "cost_usd": [90.0, 80.0, 55.5, 0.0], "baseline_usd": [10.0, 10.0, 12.0, 9.0],
        "score": [20.0, 18.0, 9.04, -5.0],
        "is_anomaly": [True, True, True, True], "direction": ["spike", "spike", "spike", "drop"],
    })
    # Oct 1 is older than the last 3 days (Oct 8-10); the aws drop is not alerted by default.
    due = pending_alerts(_budget(10), anomalies, [])
    assert [a.key for a in due] == ["anomaly:2026-10-09:openai:gpt-4o:core:spike",
                                    "anomaly:2026-10-10:anthropic:claude-sonnet-4-0:-:spike"]
    assert "spent $55.50 on 2026-10-10 against a usual $12.00" in due[1].text
    # Two targets: the first already has the Oct 9 alert, so only the second target is owed it.
    sent = pl.DataFrame({"alert_key": ["anomaly:2026-10-09:openai:gpt-4o:core:spike"], "target": ["A"],
                         "status": ["sent"]})
    due = pending_alerts(_budget(10), anomalies, sent, targets=["A", "B"])
    assert [(a.key[:18], a.targets) for a in due] == [("anomaly:2026-10-09", ("B",)), ("anomaly:2026-10-10", ("A", "B"))]
    results = send_alerts(due, ["A", "B"], environ={"A": hook.url, "B": hook.url}, sleep=lambda s: None)
    assert sorted((r.target, r.alert_key[:18]) for r in results) == [
        ("A", "anomaly:2026-10-10"), ("B", "anomaly:2026-10-09"), ("B", "anomaly:2026-10-10")]
    assert len(hook.bodies) == 3
