"""A local stand-in for the provider admin APIs, on 127.0.0.1: OpenAI and Anthropic cost and usage reports,
Anthropic's Claude Code analytics, GitHub Copilot seats and premium requests, and Cursor's Admin API.

It serves the documented response shapes (pages of daily buckets, `has_more` / `next_page` cursors) from
fixture data a test sets, checks the auth headers (401 without them, echoing the presented key the way real
providers echo part of it, so tests prove the client redacts it), injects faults (429 with Retry-After, 5xx)
on chosen requests, and records every request so tests can assert paging and retries happened.

Paging is deliberately small: a page holds at most `buckets_per_page` bucket pieces, and a bucket's results
are cut into pieces of `results_per_page`, so even a one-day request spans several pages. The seat and coding-tool
APIs page the way each vendor does (tests/support/fake_seat_apis.py): cursors (Claude Code), `Link` headers
(GitHub), page numbers in a POST body (Cursor), `results_per_page` records a page.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

OPENAI_COSTS = "/v1/organization/costs"
OPENAI_USAGE = "/v1/organization/usage/completions"
ANTHROPIC_COSTS = "/v1/organizations/cost_report"
ANTHROPIC_USAGE = "/v1/organizations/usage_report/messages"
OPENAI_PATHS = {OPENAI_COSTS, OPENAI_USAGE}
ANTHROPIC_PATHS = {ANTHROPIC_COSTS, ANTHROPIC_USAGE}
MAX_REQUESTS = 200  # a runaway client fails the test instead of spinning
# The seat and coding-tool APIs (their routes live in tests/support/fake_seat_apis.py)
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
CURSOR_MEMBERS, CURSOR_DAILY, CURSOR_SPEND = "/teams/members", "/teams/daily-usage-data", "/teams/spend"


@dataclass
class Fault:
    path: str
    status: int
    times: int | None = 1  # None: forever
    retry_after: str | None = None
    when: Callable[[dict[str, list[str]]], bool] | None = None
    message: str = "injected failure"


@dataclass
class Recorded:
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    status: int


@dataclass
class FakeProviderApi:
    openai_key: str = "sk-admin-test-openai-0123456789"
    anthropic_key: str = "sk-ant-admin01-test-anthropic-0123456789"
    github_key: str = "ghp_testgithubtoken0123456789"
    cursor_key: str = "crsr_testcursorkey0123456789"
    buckets_per_page: int = 2
    results_per_page: int = 2
    # day -> list of result objects, per endpoint path
    data: dict[str, dict[date, list[dict]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    settings: dict = field(default_factory=dict)  # seat APIs: total_seats (a lying total), cycle_start (ms)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self._answer(None)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = None
                self._answer(body if isinstance(body, dict) else {"__invalid__": True})

            def _answer(self, posted: dict | None) -> None:
                status, body, headers = api._handle(self.path, {k.lower(): v for k, v in self.headers.items()}, posted)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # --- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> "FakeProviderApi":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- test controls ---------------------------------------------------------------------------------
    def fail(self, path: str, status: int, *, times: int | None = 1, retry_after: str | None = None,
             when: Callable[[dict[str, list[str]]], bool] | None = None, message: str = "injected failure") -> None:
        self.faults.append(Fault(path, status, times, retry_after, when, message))

    def calls(self, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if path is None or r.path == path]

    # --- serving ---------------------------------------------------------------------------------------
    def _handle(self, raw_path: str, headers: dict[str, str], posted: dict | None = None
                ) -> tuple[int, dict, dict[str, str]]:
        split = urlsplit(raw_path)
        path, params = split.path, parse_qs(split.query, keep_blank_values=True)
        if posted is not None:  # a POST body's fields are recorded (and matched by faults) like query parameters
            params = {**params, **{k: [str(v)] for k, v in posted.items()}}
        with self._lock:
            if len(self.requests) >= MAX_REQUESTS:
                return self._record(path, params, headers, 599, {"error": {"message": "too many requests in test"}})
            from tests.support.fake_seat_apis import seat_api_response

            answer = seat_api_response(self, path, params, headers, posted)
            status, body, extra = answer if answer is not None else self._respond(path, params, headers)
            self._record(path, params, headers, status, body)
        return status, body, extra

    def fault_for(self, path: str, params: dict[str, list[str]]):
        """The response of the first matching injected fault (counting it down), or None."""
        for fault in self.faults:
            if fault.path == path and fault.times != 0 and (fault.when is None or fault.when(params)):
                if fault.times is not None:
                    fault.times -= 1
                extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                return fault.status, {"error": {"message": fault.message, "type": "server_error"}}, extra
        return None

    def _record(self, path, params, headers, status, body):
        self.requests.append(Recorded(path, params, headers, status))
        return status, body, {}

    def _respond(self, path: str, params: dict[str, list[str]], headers: dict[str, str]):
        if path not in OPENAI_PATHS | ANTHROPIC_PATHS:
            return 404, {"error": {"message": f"no route {path}"}}, {}
        auth = self._auth_error(path, headers)
        if auth:
            return auth
        faulted = self.fault_for(path, params)
        if faulted is not None:
            return faulted
        try:
            start, end = self._window(path, params)
        except (KeyError, ValueError) as exc:
            return 400, {"error": {"message": f"bad time window: {exc}"}}, {}
        if params.get("bucket_width", ["1d"])[0] != "1d":
            return 400, {"error": {"message": "only bucket_width=1d is served here"}}, {}
        pieces = self._pieces(path, start, end)
        offset = int(params.get("page", ["cursor-0"])[0].removeprefix("cursor-"))
        page = pieces[offset: offset + self.buckets_per_page]
        more = offset + self.buckets_per_page < len(pieces)
        body = {"data": page, "has_more": more, "next_page": f"cursor-{offset + self.buckets_per_page}" if more else None}
        if path in OPENAI_PATHS:
            body = {"object": "page", **body}
        return 200, body, {}

    def _auth_error(self, path: str, headers: dict[str, str]):
        if path in OPENAI_PATHS:
            presented = headers.get("authorization", "").removeprefix("Bearer ")
            if presented != self.openai_key:
                return 401, {"error": {"message": f"Incorrect API key provided: {presented}.",
                                       "type": "invalid_request_error", "code": "invalid_api_key"}}, {}
            return None
        presented = headers.get("x-api-key", "")
        if presented != self.anthropic_key:
            return 401, {"type": "error", "error": {"type": "authentication_error",
                                                   "message": f"invalid x-api-key {presented}"}}, {}
        if headers.get("anthropic-version") != "2023-06-01":
            return 400, {"type": "error", "error": {"type": "invalid_request_error",
                                                   "message": "anthropic-version header is required"}}, {}
        return None

    @staticmethod
    def _window(path: str, params: dict[str, list[str]]) -> tuple[datetime, datetime]:
        if path in OPENAI_PATHS:
            start = datetime.fromtimestamp(int(params["start_time"][0]), timezone.utc)
            end = datetime.fromtimestamp(int(params["end_time"][0]), timezone.utc)
        else:
            start = datetime.fromisoformat(params["starting_at"][0].replace("Z", "+00:00"))
            end = datetime.fromisoformat(params["ending_at"][0].replace("Z", "+00:00"))
        if end <= start:
            raise ValueError("end must be after start")
        return start, end

    def _pieces(self, path: str, start: datetime, end: datetime) -> list[dict]:
        """Daily buckets over [start, end), empty ones included (as the real APIs do), cut into pieces."""
        by_day = self.data.get(path, {})
        pieces = []
        day = start
        while day < end:
            results = by_day.get(day.date(), [])
            chunks = [results[i: i + self.results_per_page] for i in range(0, len(results), self.results_per_page)]
            for chunk in chunks or [[]]:
                pieces.append(_bucket(path, day, day + timedelta(days=1), chunk))
            day += timedelta(days=1)
        return pieces


def _bucket(path: str, start: datetime, end: datetime, results: list[dict]) -> dict:
    if path in OPENAI_PATHS:
        return {"object": "bucket", "start_time": int(start.timestamp()), "end_time": int(end.timestamp()),
                "results": results}
    return {"starting_at": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "ending_at": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "results": results}


def api_config(tmp_path, kind: str, url: str, key_env: str, *, path: str | None = "api", **options):
    """An AispendConfig in tmp_path with one API source of `kind` pointed at the fake server (`path=None` for the
    kinds that read saved responses from a path instead)."""
    from pipelines.config import AispendConfig, SourceConfig

    source = SourceConfig(name=f"my_{kind}", kind=kind, path=path, api_key_env=key_env,
                          options={"base_url": url, "backoff_s": 0.01, **options})
    return AispendConfig(warehouse=str(tmp_path / "wh" / "aispend.duckdb"), sources=[source], base_dir=str(tmp_path))
