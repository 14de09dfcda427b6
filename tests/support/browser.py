"""Shared helpers for browser tests: the real Dash server in a subprocess, Debian's Chromium via Playwright,
and a console watcher every test ends with (`console.assert_clean()`).

Usage:
    with dash_server(snapshot_dir, log_dir=tmp_path) as base_url, chromium() as browser:
        page, console = open_page(browser)
        page.goto(base_url + "/")
        ...
        console.assert_clean()
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The first render of a page with figures was measured at 25-30 s on these machines: wait generously.
SLOW_MS = 120_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(
    url: str, timeout_s: float = 120.0, process: subprocess.Popen | None = None, headers: dict | None = None
) -> None:
    """Poll until `url` answers 200; fail early if the server process died."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s (last error: {last})")


@contextmanager
def dash_server(
    snapshot_dir: str | Path,
    log_dir: str | Path,
    timeout_s: float = 120.0,
    *,
    workers: int = 2,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    ready_path: str = "/_dash-layout",
    ready_headers: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run `aispend dashboard` (gunicorn with `workers`, or Flask's server for 0) on a free 127.0.0.1 port.

    The real command line in a subprocess: a config file naming the snapshot folder is written to `log_dir`,
    `args` go to the command (e.g. auth flags), and the server is stopped by its own pid however the test
    ends. Its output goes to <log_dir>/dash-server-<port>.log. Yields the base URL.
    """
    port = free_port()
    log_dir = Path(log_dir)
    log_path = log_dir / f"dash-server-{port}.log"
    config = log_dir / f"aispend-dashboard-{port}.yaml"
    config.write_text(
        f"warehouse: {json.dumps(str(Path(snapshot_dir).resolve().parent / 'unused.duckdb'))}\n"
        f"snapshot_dir: {json.dumps(str(Path(snapshot_dir).resolve()))}\n"
    )
    command = [sys.executable, "-m", "pipelines.cli", "dashboard", "--config", str(config), "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), *args]
    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        **(env or {}),
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(base_url + ready_path, timeout_s, process, ready_headers)
        except Exception as exc:
            raise RuntimeError(f"{exc}\n--- server log ---\n{log_path.read_text(errors='replace')}") from exc
        yield base_url
    finally:
        process.terminate()  # gunicorn's master stops its workers on SIGTERM
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only this server and its workers
            process.wait(timeout=10)


@contextmanager
def chromium():
    """Playwright's Chromium driver on Debian's /usr/bin/chromium, headless and offline-friendly."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Console:
    """Console messages and uncaught page errors of one page."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        # What the console line does not say (Chromium logs only "Failed to load resource: ... 500"): which
        # request failed or was cancelled.
        page.on("requestfailed", lambda r: self.messages.append(f"requestfailed: {r.method} {r.url} {r.failure}"))
        page.on("response", self._on_response)

    def _on_response(self, response) -> None:
        if response.status >= 400:  # the body is in the server log (the traceback of a callback error)
            self.messages.append(f"response {response.status}: {response.request.method} {response.url}")

    def _on_console(self, message) -> None:
        text = f"{message.type}: {message.text}"
        self.messages.append(text)
        if message.type == "error":
            self.errors.append(text)

    def assert_clean(self) -> None:
        assert not self.errors, ("browser console errors:\n" + "\n".join(self.errors)
                                 + "\n--- every console message and failed request, in order ---\n"
                                 + "\n".join(self.messages))


def open_page(browser, width: int = 1360, height: int = 900):
    """A fresh page in its own context (downloads allowed), with its console watched."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(SLOW_MS)
    console = Console()
    console.attach(page)
    return page, console


def artifacts_dir(tmp_path: Path) -> Path:
    """Where screenshots go: test-artifacts/ in the repo when AISPEND_ARTIFACTS is set (CI), else tmp_path."""
    target = REPO / "test-artifacts" if os.environ.get("AISPEND_ARTIFACTS") else Path(tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def wait_text(page, selector: str, expected: str) -> None:
    """Wait until the element shows `expected` (pages re-render after a URL change), then check it."""
    page.wait_for_function(
        "([sel, want]) => { const el = document.querySelector(sel); return el && el.innerText.trim() === want; }",
        arg=[selector, expected],
        timeout=SLOW_MS,
    )
    assert page.inner_text(selector).strip() == expected
