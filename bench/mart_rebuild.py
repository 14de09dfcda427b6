"""Rebuild marts whole on a kept warehouse, each in a fresh process: wall seconds and peak RSS per mart.

    .venv/bin/python bench/mart_rebuild.py /work/bench-data/d12/n10000000/aispend.yaml task_daily waste
    .venv/bin/python bench/mart_rebuild.py --chunk-events 2000000 .../aispend.yaml waste   # another chunk size

A first load builds every mart over the whole history; this times just those builds (`marts.build` with no
window, as a first run does) with the code of this checkout, on a warehouse `end_to_end.py --keep` left, so two
versions of a mart can be compared on the same events without loading them again. Each build writes its rows
back, so the warehouse ends as a run would leave it. Peak RSS is the child's own (`ru_maxrss`), start-up
included.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_one(config_path: str, mart: str, chunk_events: int | None) -> None:
    """In the child: build one mart whole (with chunks of `chunk_events` when given) and print its rows."""
    sys.path.insert(0, str(ROOT))
    from pipelines import marts, reads
    from pipelines.config import load_config
    from warehouse.db import connect_writer

    if chunk_events:
        reads.MAX_CHUNK_EVENTS = chunk_events
    config = load_config(config_path)
    con = connect_writer(config.warehouse_path)
    try:
        frame = marts.build(con, config, mart)
    finally:
        con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"rows {frame.height} peak {peak:.3f}")


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) >= 4 and args[0] == "--child":
        build_one(args[1], args[2], int(args[3]) or None)
        return 0
    chunk_events = 0
    if args[:1] == ["--chunk-events"] and len(args) > 1:
        chunk_events, args = int(args[1]), args[2:]
    if len(args) < 2:
        raise SystemExit("usage: mart_rebuild.py [--chunk-events N] CONFIG MART [MART ...]")
    config_path, names = args[0], args[1:]
    size = f"chunks of {chunk_events:,} events" if chunk_events else "the product's chunk size"
    print(f"{size}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'mart':<22} {'seconds':>8} {'peak RSS GB':>12}  rows")
    for name in names:
        began = time.monotonic()
        command = [sys.executable, __file__, "--child", config_path, name, str(chunk_events)]
        child = subprocess.run(command, capture_output=True, text=True)
        seconds = time.monotonic() - began
        if child.returncode:
            print(child.stderr[-2000:])
            return child.returncode
        _, rows, _, peak = child.stdout.strip().splitlines()[-1].split()
        print(f"{name:<22} {seconds:8.1f} {float(peak):12.2f}  {int(rows):,}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
