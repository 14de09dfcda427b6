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
