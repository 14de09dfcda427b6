"""Shared fixtures, and how `make test` spreads the modules over its workers. Tests write only under tmp_path and
never reach past 127.0.0.1."""

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


# `make test` runs the suite on workers (pytest-xdist, TEST_WORKERS in the Makefile), a module at a time on one
# worker, so a module's fixtures are built once. Modules start in this order, the longest first (seconds per module
# in one run on two workers, the CI machine's 2 cores): started last, a module of two minutes leaves one worker
# running alone at the end. The rest follow in the order pytest collects them. A module missing here only starts
# later; a stale figure only costs minutes.
LONGEST_FIRST = [
    "tests/faults/test_run_faults.py",  # 196 s
    "tests/pipeline/test_run_state.py",  # 146
    "tests/pipeline/test_end_to_end.py",  # 129
    "tests/pipeline/test_partitions.py",  # 118
    "tests/pipeline/test_demo_evidence.py",  # 64, with test_evidence_browser.py (one session fixture): 116
    "tests/dashboard/test_evidence_browser.py",
    "tests/faults/test_samples.py",  # 104
    "tests/dashboard/test_dashboard_browser.py",  # 83
    "tests/pipeline/test_dagster_dev.py",  # 82
    "tests/pipeline/test_pipeline.py",  # 76
    "tests/pipeline/test_parallel_partitions.py",  # 72
    "tests/dashboard/test_people_browser.py",  # 71
    "tests/faults/test_crash.py",  # 67
    "tests/pipeline/test_currency.py",  # 56
    "tests/pipeline/test_local.py",  # 49
    "tests/finance/test_chargeback_export_report.py",  # 41
]
# Modules that share a session fixture run on one worker, so it is built once.
TOGETHER = {"tests/dashboard/test_evidence_browser.py": "tests/pipeline/test_demo_evidence.py"}


def pytest_collection_modifyitems(config, items):
    rank = {module: i for i, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: the rest as collected


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Whole modules to a worker, in the order above (xdist's own `loadscope` would sort them by test count)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return TOGETHER.get(module, module)

    config.option.loadscopereorder = False
    return ByModule(config, log)
