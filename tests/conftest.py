"""Shared fixtures. Tests write only under tmp_path and never reach past 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = (REPO / ".." / "shared" / "samples").resolve()


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"../shared/samples not found beside the checkout (looked in {SAMPLES})")
    return SAMPLES


from tests.support.s3_server import s3, s3_server  # noqa: E402,F401  (fixtures shared by S3 tests)


@pytest.fixture(scope="session")
def evidence_demo(tmp_path_factory):
    """The demo's 90 days with 20k spans, run through the pipeline once per session: its work items and verdicts
    are the full demo's (they are drawn apart from the spans, pipelines/demo/work.py). Returns the config."""
    from datetime import date

    from pipelines.config import load_config
    from pipelines.demo import generate_demo
    from pipelines.plan import run_in_process

    config = load_config(generate_demo(tmp_path_factory.mktemp("evidence-demo"), days=90, events_target=20_000,
                                       end_date=date(2026, 11, 15)))
    results = run_in_process(config)
    assert not [r for r in results if r.status == "quarantined"]
    return config
