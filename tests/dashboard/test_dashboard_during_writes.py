"""The dashboard keeps working while the pipeline writes: pages reload ~30 times while the real pipeline
(pipelines.plan.run_in_process on generated demo data) rebuilds and republishes every snapshot in a loop."""

from __future__ import annotations

import threading
import time

import pytest

from pipelines.config import load_config
from pipelines.demo.generate import generate_demo
from pipelines.plan import run_in_process
from tests.support.browser import artifacts_dir, chromium, dash_server, open_page

PAGES = ["/", "/tasks", "/models", "/reconciliation", "/waste", "/health"]


@pytest.mark.slow
def test_pages_render_while_the_pipeline_publishes(tmp_path):
    config = load_config(generate_demo(tmp_path / "demo", days=14, events_target=5000))
    run_in_process(config)  # a first snapshot to serve
    runs, errors, stop = [], [], threading.Event()

    def pipeline_loop():
        while not stop.is_set():
            try:
                run_in_process(config)
                runs.append(time.monotonic())
            except Exception as exc:  # the test fails below, with the reason
                errors.append(repr(exc))
                return

    writer = threading.Thread(target=pipeline_loop, daemon=True)
    with dash_server(config.snapshot_path, tmp_path, workers=2) as url, chromium() as browser:
        page, console = open_page(browser)
        writer.start()
        loads = 0
        try:
            for i in range(30):
                page.goto(url + PAGES[i % len(PAGES)])
                page.wait_for_selector(".page h1")
                page.wait_for_load_state("networkidle")
                text = page.inner_text(".page")
                assert "No data yet" not in text and "Error" not in page.title(), PAGES[i % len(PAGES)]
                loads += 1
        finally:
            stop.set()
            writer.join(timeout=300)
        page.screenshot(path=str(artifacts_dir(tmp_path) / "during-writes.png"), full_page=True)
        if console.errors:  # the server's side of it: a callback's traceback is in its log
            for log in tmp_path.glob("dash-server-*.log"):
                print(f"--- {log.name} ---\n{log.read_text(errors='replace')[-6000:]}")
        console.assert_clean()
    assert not errors, errors
    assert loads == 30
    assert len(runs) >= 1, "the pipeline never finished a run while the pages loaded"
    print(f"during-writes: {loads} page loads, {len(runs)} pipeline runs published meanwhile")
