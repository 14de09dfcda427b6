"""A heavy user's coding-agent logs, read as `aispend local` reads them, beside DuckDB reading the same files.

    .venv/bin/python bench/agent_logs.py                       # 200 Claude Code sessions (760 MB), 1,500 Codex ones
    .venv/bin/python bench/agent_logs.py --sessions 400 --codex 3000 --dir /tmp/agents

Writes (once; kept in DIR) what a person who works with both agents all day keeps:
- DIR/claude: one project folder of SESSIONS session files as Claude Code writes them: a user line of 8 KB of
  conversation before each response, each response streamed on two lines (the first with a partial
  `output_tokens` and no `stop_reason`) that carry 3 KB of reply text, and a sub-agent file for every tenth
  session that repeats its parent's first response;
- DIR/codex: CODEX small session files as Codex CLI writes them, 50 a day: session_meta, turn_context, a prompt
  of 2 KB, and three calls reported as token_count events with cumulative and per-call usage (the second twice).
Then, each in its own process so that each peak is its own:
- `claude floor` and `codex floor`: DuckDB `read_json` of the same files into a table of the columns the reader
  decodes, usage lines only, committed to a scratch file (the readers also check every line and keep one line
  per call: the floors do neither);
- `claude`: the claude_code_logs kind, planned and loaded as a run does (pipelines/sources/claude_code_logs.py);
- `codex alone`: the codex_logs kind, each file read by itself;
- `codex`: the same files as a run reads them, small files together (`file_units`, ingest's groups, `read`
  of pipelines/read_ahead.py);
each with its seconds, peak RSS and rows, which must equal the calls written (else exit 1).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
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


def write_claude(root: Path, sessions: int, responses: int) -> None:
    folder = root / "claude" / PROJECT
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


def write_codex(root: Path, sessions: int) -> None:
    rng = random.Random(11)
    start = datetime(2026, 10, 1, 9, tzinfo=UTC)
    for s in range(sessions):
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        began = start + timedelta(days=s // 50, minutes=10 * (s % 50))
        folder = root / "codex" / began.strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)

        def line(seconds: int, kind: str, payload: dict) -> str:
            stamp = (began + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            return json.dumps({"timestamp": stamp, "type": kind, "payload": payload}) + "\n"

        lines = [line(0, "session_meta", {"id": sid, "cwd": "/home/me/code/api", "cli_version": "0.46.0"}),
                 line(1, "turn_context", {"cwd": "/home/me/code/api", "model": "gpt-5-codex"}),
                 line(2, "response_item", {"type": "message", "role": "user",
                                           "content": [{"type": "input_text", "text": "z" * 2000}]})]
        total = dict.fromkeys(("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens"), 0)
        for call in range(3):
            last = {"input_tokens": rng.randint(5000, 20000), "output_tokens": rng.randint(100, 900)}
            last |= {"cached_input_tokens": last["input_tokens"] // 2,
                     "reasoning_output_tokens": last["output_tokens"] // 3}
            total = {k: total[k] + last[k] for k in total}
            info = {"total_token_usage": {**total, "total_tokens": total["input_tokens"] + total["output_tokens"]},
                    "last_token_usage": {**last, "total_tokens": last["input_tokens"] + last["output_tokens"]}}
            event = line(10 + 10 * call, "event_msg", {"type": "token_count", "info": info})
            lines += [event, event] if call == 1 else [event]
        (folder / f"rollout-{began:%Y-%m-%dT%H-%M-%S}-{sid}.jsonl").write_text("".join(lines))


def write_logs(root: Path, sessions: int, responses: int, codex: int) -> dict[str, int]:
    """DIR's two folders (kept when they are there with the same shape); the calls each holds."""
    marker = root / "shape.json"
    shape = {"sessions": sessions, "responses": responses, "codex": codex}
    if not (marker.exists() and json.loads(marker.read_text()) == shape):
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        write_claude(root, sessions, responses)
        write_codex(root, codex)
        marker.write_text(json.dumps(shape))
    return {"claude": sessions * responses, "codex": codex * 3}


def _source(root: Path, kind: str):
    from pipelines.config import AispendConfig

    name = kind.split("_")[0]
    config = AispendConfig(warehouse=str(root / "unused.duckdb"), base_dir=str(root),
                           sources=[{"name": name, "kind": kind, "path": str(root / name)}])
    return config, config.sources[0]


def claude(root: Path) -> int:
    from pipelines.sources import plan_units

    config, source = _source(root, "claude_code_logs")
    return sum(unit.load().height for unit in plan_units(config, source))


def codex_alone(root: Path) -> int:
    from pipelines.sources import plan_units

    config, source = _source(root, "codex_logs")
    return sum(unit.load().height for unit in plan_units(config, source))


def codex(root: Path) -> int:
    from pipelines.ingest import _groups
    from pipelines.read_ahead import read
    from pipelines.sources import plan_units

    config, source = _source(root, "codex_logs")
    rows = 0
    for group in _groups(plan_units(config, source)):
        done = read("usage_events", group)
        rows += sum(done.outcomes[u.key].height for u in group)
    return rows


CLAUDE_FLOOR = """
CREATE TABLE lines AS SELECT * FROM read_json(?, format = 'newline_delimited', columns = {
    type: 'VARCHAR', timestamp: 'VARCHAR', sessionId: 'VARCHAR', cwd: 'VARCHAR', requestId: 'VARCHAR',
    message: 'STRUCT(id VARCHAR, model VARCHAR, stop_reason VARCHAR, usage STRUCT(input_tokens VARCHAR,
        cache_creation_input_tokens VARCHAR, cache_read_input_tokens VARCHAR, output_tokens VARCHAR,
        service_tier VARCHAR))'}) WHERE type = 'assistant'
"""
_USAGE = ("STRUCT(input_tokens VARCHAR, cached_input_tokens VARCHAR, output_tokens VARCHAR, "
          "reasoning_output_tokens VARCHAR, total_tokens VARCHAR)")
CODEX_FLOOR = f"""
CREATE TABLE lines AS SELECT * FROM read_json(?, format = 'newline_delimited', filename = true, columns = {{
    timestamp: 'VARCHAR', type: 'VARCHAR', payload: 'STRUCT(type VARCHAR, id VARCHAR, cwd VARCHAR, model VARCHAR,
        info STRUCT(total_token_usage {_USAGE}, last_token_usage {_USAGE}))'}})
WHERE payload.type = 'token_count' AND payload.info IS NOT NULL
"""


def floor(query: str, files: str, count: str) -> int:
    import duckdb

    with tempfile.TemporaryDirectory() as scratch:
        con = duckdb.connect(str(Path(scratch) / "floor.duckdb"))
        con.execute(query, [files])
        con.execute("CHECKPOINT")
        rows = con.execute(f"SELECT {count} FROM lines").fetchone()[0]
        con.close()
    return rows


PARTS = {
    "claude floor": lambda root: floor(CLAUDE_FLOOR, str(root / "claude" / "**" / "*.jsonl"),
                                       "count(DISTINCT message.id)"),
    "claude": claude,
    "codex floor": lambda root: floor(CODEX_FLOOR, str(root / "codex" / "**" / "*.jsonl"),
                                      "count(DISTINCT (filename, payload.info.total_token_usage.total_tokens))"),
    "codex alone": codex_alone,
    "codex": codex,
}


def one(what: str, root: Path) -> None:
    import duckdb  # noqa: F401  (imports are not what is timed)

    from pipelines.config import AispendConfig  # noqa: F401
    from pipelines.ingest import _groups  # noqa: F401
    from pipelines.sources import plan_units  # noqa: F401

    started = time.perf_counter()
    rows = PARTS[what](root)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_gib": peak}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=200, help="Claude Code sessions")
    parser.add_argument("--responses", type=int, default=250, help="responses per Claude Code session")
    parser.add_argument("--codex", type=int, default=1500, help="Codex sessions (three calls each)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "aispend-agent-bench")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--one", choices=list(PARTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.dir)
        return 0
    started = time.perf_counter()
    written = write_logs(args.dir, args.sessions, args.responses, args.codex)
    sizes = {kind: sum(p.stat().st_size for p in (args.dir / kind).rglob("*.jsonl")) / 1e6 for kind in written}
    files = {kind: sum(1 for _ in (args.dir / kind).rglob("*.jsonl")) for kind in written}
    for kind in written:
        print(f"{args.dir / kind}: {written[kind]:,} calls in {files[kind]:,} files, {sizes[kind]:,.1f} MB")
    print(f"(ready in {time.perf_counter() - started:.1f} s)")
    print(f"{'turn':>4}  {'part':<12} {'seconds':>8} {'MB/s':>7} {'peak GiB':>9} {'rows':>9}")
    failed = False
    for turn in range(1, args.repeat + 1):
        for what in PARTS:
            out = subprocess.run([sys.executable, __file__, "--one", what, "--dir", str(args.dir)],
                                 check=True, capture_output=True, text=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            kind = what.split()[0]
            print(f"{turn:>4}  {what:<12} {got['seconds']:>8.2f} {sizes[kind] / got['seconds']:>7.0f} "
                  f"{got['peak_gib']:>9.2f} {got['rows']:>9,}")
            failed |= got["rows"] != written[kind]
    if failed:
        print(f"rows differ from the calls written ({written})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
