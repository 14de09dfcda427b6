"""A heavy user's Claude Code logs, read as `aispend local` reads them, beside DuckDB reading the same files.

    .venv/bin/python bench/agent_logs.py                       # 200 sessions of 250 responses, about 730 MB
    .venv/bin/python bench/agent_logs.py --sessions 400 --dir /tmp/agents

Writes (once; kept in DIR) one project folder of SESSIONS session files as Claude Code writes them: a user line
of 8 KB of conversation before each response, each response streamed on two lines (the first with a partial
`output_tokens` and no `stop_reason`) that carry 3 KB of reply text, and a sub-agent file for every tenth session
that repeats its parent's first response. Then, each in its own process so that each peak is its own:
- `reader`: the claude_code_logs kind, planned and loaded as a run does (pipelines/sources/claude_code_logs.py);
- `floor`: DuckDB `read_json` of the same files into a table of the columns the reader decodes, assistant lines
  only, committed to a scratch file (the reader also checks every line, keeps one line per message and prices
  nothing: the floor does neither);
each with its seconds, peak RSS and the reader's rows, which must equal the responses written (else exit 1).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROJECT = "-home-me-code-bigapp"
MODEL = "claude-sonnet-4-5-20250929"


def write_logs(root: Path, sessions: int, responses: int) -> int:
    """The project folder under `root` (kept when it is there with the same shape); the responses it holds."""
    folder = root / PROJECT
    marker = root / "shape.json"
    shape = {"sessions": sessions, "responses": responses}
    if marker.exists() and json.loads(marker.read_text()) == shape:
        return sessions * responses
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    talk, reply = "x" * 8000, "y" * 3000
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for s in range(sessions):
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        when = start + timedelta(hours=3 * s)
        lines, first = [], None
        for _ in range(responses):
            when += timedelta(seconds=20)
            stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            common = {"timestamp": stamp, "sessionId": sid, "cwd": "/home/me/code/bigapp"}
            lines.append({"type": "user", **common, "message": {"role": "user", "content": talk}})
            mid = f"msg_{rng.getrandbits(64):016x}"
            usage = {"input_tokens": rng.randint(1, 50), "cache_creation_input_tokens": rng.randint(0, 5000),
                     "cache_read_input_tokens": rng.randint(0, 90000), "output_tokens": rng.randint(10, 2000),
                     "service_tier": "standard"}
            for done in (False, True):
                message = {"id": mid, "model": MODEL, "stop_reason": "end_turn" if done else None,
                           "usage": usage if done else {**usage, "output_tokens": 1},
                           "content": [{"type": "text", "text": reply}]}
                lines.append({"type": "assistant", **common, "requestId": f"req_{mid[4:]}", "message": message})
            first = first or lines[-1]
        (folder / f"{sid}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
        if s % 10 == 0:
            agents = folder / sid / "subagents"
            agents.mkdir(parents=True, exist_ok=True)
            (agents / "agent-1.jsonl").write_text(json.dumps({**first, "isSidechain": True}) + "\n")
    marker.write_text(json.dumps(shape))
    return sessions * responses


def reader(root: Path) -> int:
    from pipelines.config import AispendConfig
    from pipelines.sources import plan_units

    config = AispendConfig(warehouse=str(root / "unused.duckdb"), base_dir=str(root),
                           sources=[{"name": "claude", "kind": "claude_code_logs", "path": str(root)}])
    return sum(unit.load().height for unit in plan_units(config, config.sources[0]))


FLOOR = """
CREATE TABLE lines AS SELECT * FROM read_json(?, format = 'newline_delimited', columns = {
    type: 'VARCHAR', timestamp: 'VARCHAR', sessionId: 'VARCHAR', cwd: 'VARCHAR', requestId: 'VARCHAR',
    message: 'STRUCT(id VARCHAR, model VARCHAR, stop_reason VARCHAR, usage STRUCT(input_tokens VARCHAR,
        cache_creation_input_tokens VARCHAR, cache_read_input_tokens VARCHAR, output_tokens VARCHAR,
        service_tier VARCHAR))'}) WHERE type = 'assistant'
"""


def floor(root: Path) -> int:
    import duckdb

    with tempfile.TemporaryDirectory() as scratch:
        con = duckdb.connect(str(Path(scratch) / "floor.duckdb"))
        con.execute(FLOOR, [str(root / "**" / "*.jsonl")])
        con.execute("CHECKPOINT")
        rows = con.execute("SELECT count(DISTINCT message.id) FROM lines").fetchone()[0]
        con.close()
    return rows


def one(what: str, root: Path) -> None:
    import duckdb  # noqa: F401  (imports are not what is timed)

    from pipelines.config import AispendConfig  # noqa: F401
    from pipelines.sources import plan_units  # noqa: F401

    started = time.perf_counter()
    rows = {"reader": reader, "floor": floor}[what](root)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_gib": peak}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--responses", type=int, default=250, help="responses per session")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "aispend-agent-bench")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--one", choices=["reader", "floor"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.dir)
        return 0
    started = time.perf_counter()
    written = write_logs(args.dir, args.sessions, args.responses)
    size = sum(p.stat().st_size for p in args.dir.rglob("*.jsonl")) / 1e6
    print(f"{args.dir}: {written:,} responses in {size:,.0f} MB of session files "
          f"(ready in {time.perf_counter() - started:.1f} s)")
    print(f"{'turn':>4}  {'part':<7} {'seconds':>8} {'MB/s':>7} {'peak GiB':>9} {'rows':>9}")
    failed = False
    for turn in range(1, args.repeat + 1):
        for what in ("floor", "reader"):
            out = subprocess.run([sys.executable, __file__, "--one", what, "--dir", str(args.dir)],
                                 check=True, capture_output=True, text=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            print(f"{turn:>4}  {what:<7} {got['seconds']:>8.2f} {size / got['seconds']:>7.0f} "
                  f"{got['peak_gib']:>9.2f} {got['rows']:>9,}")
            failed |= got["rows"] != written
    if failed:
        print(f"rows differ from the {written:,} responses written", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
