"""A hook for the crash tests: `AISPEND_TEST_KILL_AT=<point>` kills the process with SIGKILL at that point.

The points are the moments a real crash can fall between two durable writes: `before:<step>` at the boundary
before the stage that starts with <step> (pipelines/cli_run.py), and `committed:<step>` after a step has committed
its rows and before it publishes its snapshot (pipelines/execute.py). Unset (always, outside tests), it does
nothing. tests/faults/test_crash.py kills `aispend run` at each and checks the next run repairs everything.
"""

from __future__ import annotations

import os
import signal

ENV = "AISPEND_TEST_KILL_AT"


def reached(point: str) -> None:
    if os.environ.get(ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
