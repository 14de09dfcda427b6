"""Alerts for budget breaches and spend anomalies, posted to Slack-compatible webhooks, each one exactly once.

Why a stable key: the pipeline re-evaluates budgets and anomalies on every run, and a finance channel that hears
"Anthropic budget at 80%" every hour learns to ignore it. Each alert has an `alert_key` naming the breach itself
(budget + month + threshold, or anomaly day + provider + model + team + direction); a key delivered to a target
is recorded in the append-only table `alerts_sent` and never posted to that target again. A higher threshold is a
new key, so it posts; a lower threshold after a higher one was sent does not (spend restated downwards).

Secrets: a target is the NAME of an environment variable holding the webhook URL. The URL is read once in
`send_alerts`, used for the POST, and never returned, logged or stored; errors name the HTTP status or the
exception type only, because `requests` puts the URL (and a Slack URL's secret path) into its exception text.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import polars as pl
import requests

from pipelines.finance.money import money

log = logging.getLogger(__name__)

BUDGET = "budget"
BUDGET_FORECAST = "budget_forecast"
ANOMALY = "anomaly"
SENT = "sent"
FAILED = "failed"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
ALERTS_SENT_SCHEMA = {
    "alert_key": pl.String,
    "kind": pl.String,
    "sent_at": pl.Datetime("us"),
    "target": pl.String,
    "status": pl.String,
    "attempts": pl.Int64,
    "error": pl.String,
}


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    title: str
    text: str
    # Target names (env var names) still owed this alert; empty: every target.
    targets: tuple[str, ...] = ()

    def payload(self) -> dict[str, Any]:
        """Slack's incoming-webhook shape: `text` is the notification fallback, `blocks` the message."""
        return {
            "text": f"{self.title}: {self.text}",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": self.text}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"aispend · `{self.key}`"}]},
            ],
        }


@dataclass(frozen=True)
class AlertResult:
    alert_key: str
    kind: str
    target: str  # the environment variable's name, never the URL
    status: str  # 'sent' | 'failed'
    attempts: int
    sent_at: datetime
    error: str | None = None


# --- which alerts are due (pure) ---------------------------------------------------------------------------


def budget_key(budget: str, month: date, threshold: int) -> str:
    return f"budget:{budget}:{month:%Y-%m}:actual:{threshold}"


def forecast_key(budget: str, month: date) -> str:
    return f"budget:{budget}:{month:%Y-%m}:forecast:100"


def anomaly_key(row: Mapping[str, Any]) -> str:
    parts = [row["day"].isoformat(), row["provider"], row["model"], row["team"], row["direction"]]
    return "anomaly:" + ":".join("-" if p is None else str(p) for p in parts)


def _money(amount: float | None, row: Mapping[str, Any]) -> str:
    """The amount in the row's currency (the reporting currency; dollars for rows written before it existed)."""
    return "unknown" if amount is None else money(amount, row.get("currency") or "USD")


def _scope(row: Mapping[str, Any]) -> str:
    filters = [f"{name} {row[name]}" for name in ("provider", "team") if row.get(name)]
    return ", ".join(filters) if filters else "all AI spend"


def budget_alerts(budget_status: pl.DataFrame) -> list[Alert]:
    """The highest threshold each budget's actual spend reached, plus a forecast warning while under 100%."""
    alerts = []
    for row in budget_status.iter_rows(named=True):  # one row per budget: a handful
        reached = row["thresholds_reached"] or []
        month, name = row["month"], row["budget"]
        figures = (
            f"*{name}* ({_scope(row)}), {row['month']:%B %Y}, {row['cost_basis']}: "
            f"{_money(row['actual_usd'], row)} spent of {_money(row['monthly_usd'], row)} to {row['as_of']}; "
            f"forecast {_money(row['forecast_usd'], row)} ({_money(row['forecast_low_usd'], row)} to "
            f"{_money(row['forecast_high_usd'], row)})."
        )
        if reached:
            top = max(reached)
            alerts.append(
                Alert(budget_key(name, month, top), BUDGET, f"Budget {name}: {top}% reached", figures)
            )
        if row["forecast_over_budget"] and 100 not in reached:
            alerts.append(
                Alert(forecast_key(name, month), BUDGET_FORECAST, f"Budget {name}: forecast over budget", figures)
            )
    return alerts


def anomaly_alerts(anomalies: pl.DataFrame, since: date, directions: Sequence[str]) -> list[Alert]:
    flagged = anomalies.filter(
        pl.col("is_anomaly") & (pl.col("day") >= since) & pl.col("direction").is_in(list(directions))
    ).sort("day", "provider", "model", "team", nulls_last=True)
    alerts = []
    for row in flagged.iter_rows(named=True):  # flagged days of the last few days only: a handful
        who = f"{row['provider']} {row['model']}, team {row['team'] or '(none)'}"
        text = (
            f"{who} spent {_money(row['cost_usd'], row)} on {row['day']} against a usual "
            f"{_money(row['baseline_usd'], row)} "
            f"a day (robust score {row['score']:.1f})."
        )
        alerts.append(Alert(anomaly_key(row), ANOMALY, f"Spend {row['direction']}: {row['model']}", text))
    return alerts


def sent_pairs(already_sent: pl.DataFrame | pl.LazyFrame | Iterable[str]) -> set[tuple[str, str | None]]:
    """(alert_key, target) delivered so far; a bare iterable of keys counts as delivered to every target."""
    if isinstance(already_sent, (pl.DataFrame, pl.LazyFrame)):
        frame = already_sent.lazy().filter(pl.col("status") == SENT).select("alert_key", "target").unique()
        return set(frame.collect().iter_rows())
    return {(key, None) for key in already_sent}


def _superseded(alert: Alert, delivered: set[str]) -> bool:
    """A budget threshold counts as delivered once it or any higher threshold of the same month was."""
    if alert.kind != BUDGET:
        return alert.key in delivered
    prefix, _, threshold = alert.key.rpartition(":")
    return any(k.startswith(prefix + ":") and int(k.rpartition(":")[2]) >= int(threshold) for k in delivered)


def pending_alerts(
    budget_status: pl.DataFrame | pl.LazyFrame,
    anomalies: pl.DataFrame | pl.LazyFrame,
    already_sent: pl.DataFrame | pl.LazyFrame | Iterable[str],
    *,
    targets: Sequence[str] = (),
    anomaly_days: int = 3,
    anomaly_directions: Sequence[str] = ("spike",),
) -> list[Alert]:
    """Alerts the current state calls for that have not been delivered yet, each naming the targets it owes.

    Anomalies: only the last `anomaly_days` days of the anomalies frame (a first run over months of history must
    not page anyone about last spring), spikes only by default (a drop is on the dashboard). `targets` are the
    env var names of the webhooks; with none given, a key delivered anywhere counts as delivered.
    """
    budget_status = budget_status.lazy().collect()
    anomalies = anomalies.lazy().collect()
    candidates = budget_alerts(budget_status)
    if anomalies.height:
        since = anomalies["day"].max() - timedelta(days=anomaly_days - 1)
        candidates += anomaly_alerts(anomalies, since, anomaly_directions)
    pairs = sent_pairs(already_sent)
    owed = []
    for alert in candidates:
        if not targets:
            if not _superseded(alert, {k for k, _ in pairs}):
                owed.append(alert)
            continue
        missing = tuple(
            t for t in targets if not _superseded(alert, {k for k, target in pairs if target in (t, None)})
        )
        if missing:
            owed.append(Alert(alert.key, alert.kind, alert.title, alert.text, missing))
    return owed


# --- delivery -------------------------------------------------------------------------------------------------


Post = Callable[..., Any]


@dataclass
class _Delivery:
    max_attempts: int = 3
    backoff_s: float = 1.0
    timeout_s: float = 10.0
    post: Post = requests.post
    sleep: Callable[[float], None] = time.sleep

    def deliver(self, url: str, payload: dict) -> tuple[bool, int, str | None]:
        """(delivered, attempts, error). Retries connection failures, 408, 429 and 5xx; not other 4xx."""
        error = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.post(url, json=payload, timeout=self.timeout_s)
            except requests.RequestException as exc:
                error = f"no response ({type(exc).__name__})"
            else:
                if 200 <= response.status_code < 300:
                    return True, attempt, None
                error = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    return False, attempt, error
            if attempt < self.max_attempts:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
        return False, self.max_attempts, f"{error} after {self.max_attempts} attempts"


def target_names(targets: Sequence[Any]) -> list[str]:
    """Env var names from AlertConfig objects or plain strings."""
    return [getattr(t, "webhook_url_env", t) for t in targets]


def send_alerts(
    alerts: Sequence[Alert],
    targets: Sequence[Any],
    *,
    post: Post = requests.post,
    environ: Mapping[str, str] | None = None,
    max_attempts: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc).replace(tzinfo=None),
) -> list[AlertResult]:
    """POST each alert to each target it owes; one result per (alert, target), sent or failed with the reason.

    `targets`: AlertConfig objects (or env var names). A target whose variable is unset fails every alert with
    a message naming the variable. Record the results with `alerts_sent_frame`; only 'sent' rows dedupe.
    """
    env = os.environ if environ is None else environ
    delivery = _Delivery(max_attempts, backoff_s, timeout_s, post, sleep)
    results = []
    for name in target_names(targets):
        url = env.get(name) or None
        for alert in alerts:
            if alert.targets and name not in alert.targets:
                continue
            if url is None:
                ok, attempts, error = False, 0, f"environment variable {name} is not set"
            else:
                ok, attempts, error = delivery.deliver(url, alert.payload())
            status = SENT if ok else FAILED
            if ok:
                log.info("alert %s sent to %s", alert.key, name)
            else:
                log.warning("alert %s to %s failed: %s", alert.key, name, error)
            results.append(AlertResult(alert.key, alert.kind, name, status, attempts, now(), error))
    return results


def alerts_sent_frame(results: Sequence[AlertResult]) -> pl.DataFrame:
    """Rows to append to `alerts_sent` (failed attempts too, for the record; only 'sent' rows dedupe)."""
    return pl.DataFrame(
        {
            "alert_key": [r.alert_key for r in results],
            "kind": [r.kind for r in results],
            "sent_at": [r.sent_at for r in results],
            "target": [r.target for r in results],
            "status": [r.status for r in results],
            "attempts": [r.attempts for r in results],
            "error": [r.error for r in results],
        },
        schema=ALERTS_SENT_SCHEMA,
    )


def send_due_alerts(con, config, log: Callable[[str], None] = lambda message: None, **send_options) -> pl.DataFrame:
    """Post budget and anomaly alerts not yet sent to each configured webhook; remember what was sent.

    alerts_sent only ever grows: it is what keeps the same breach from being posted twice.
    """
    from warehouse.db import insert_rows, query

    if not config.alerts:
        return pl.DataFrame()
    targets = [a.webhook_url_env for a in config.alerts]
    due = pending_alerts(
        query(con, "SELECT * FROM budget_status"), query(con, "SELECT * FROM anomalies"),
        query(con, "SELECT alert_key, target, status FROM alerts_sent"), targets=targets,
    )
    results = send_alerts(due, targets, **send_options)
    sent = alerts_sent_frame(results)
    insert_rows(con, "alerts_sent", sent)
    failed = sum(1 for r in results if r.status != "sent")
    log(f"alerts: {len(due)} due, {len(results) - failed} sent, {failed} failed")
    return sent
