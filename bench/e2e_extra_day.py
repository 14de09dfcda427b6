"""One more daily run on a history `end_to_end.py --keep` left, timed the way it times `aispend run`.

    .venv/bin/python bench/e2e_extra_day.py /work/bench-data/e2e100/n100000000

Adds the day after the last one the files hold (bench/e2e_files.py `add_day`) and runs `aispend run` on it with
the code of this checkout: a daily run on a large history without generating and loading it again (100M events
take an hour). Prints the wall seconds, the peak RSS and the CLI's stage lines; the log goes next to the others.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from e2e_files import Written, add_day  # noqa: E402
from end_to_end import run_aispend  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        raise SystemExit("usage: e2e_extra_day.py DIR (the n<events> folder a --keep run left)")
    root = Path(args[0])
    day, counts = add_day(root, Written.load(root))
    print(f"added {day}: {sum(counts.values()):,} events {counts}; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    trace = run_aispend(root, root / f"aispend-run-extra-{day}.log", 16.0)
    peak = max((gb for _, gb in trace.samples), default=0.0)
    print(f"aispend run exit code {trace.code}; {trace.ended - trace.started:.1f} s end to end; peak RSS {peak:.2f} GB")
    for at, line in trace.lines:
        if "[aispend] running" in line or "done in" in line or "finished in" in line:
            print(f"{at - trace.started:7.1f}  {line[:140]}")
    return trace.code


if __name__ == "__main__":
    raise SystemExit(main())
