"""End-to-end benchmark: `aispend run` on the source files a user has, each stage beside the floor measured in the
same run on the same files.

    .venv/bin/python bench/end_to_end.py                      # make bench-e2e: 10M events over 120 days
    .venv/bin/python bench/end_to_end.py --events 1M          # a quick look
    .venv/bin/python bench/end_to_end.py --events 100M        # the large run (checks the disk first)
    .venv/bin/python bench/end_to_end.py --events 100M --estimate   # only the disk estimate; generates nothing

It writes N events as real files (bench/e2e_files.py, bench/e2e_bills.py: OTel spans per day, Bedrock logs per
hour, LiteLLM spend logs per day, CUR 2.0 Parquet with its manifest, FOCUS CSV; plus aispend.yaml and a task
catalog) under `--dir`, then times the product's own command, `aispend run --config ...`, in a subprocess with
`AISPEND_TIMINGS=1` (pipelines/timings.py), three times:
- `first`: the first load of the whole history;
- `daily`: one more day of usage files (yesterday), as the daily run finds them;
- `redelivery`: AWS re-delivers the last billing month (a new manifest, some lines changed, a refund).
Per stage it prints wall seconds, events per second and peak RSS. Stages are the CLI's own progress lines
("running <steps> [window]" ... "done in X s"; the time before a "running" line is planning). Inside a stage each
step's timing line splits it: per source fetch + checksum + parse (the time the load waited for its reader,
normalization included: files are read on worker threads while earlier ones are written, so reading that
overlaps a write counts once, in the write), pricing and writing; per step publishing its snapshots; what is left of the stage is Dagster's run and the asset checks.
Peak RSS is the most the child's process tree held (VmRSS, sampled every 0.2 s) while a part ran; parts without a
time window of their own (price, write, publish) show "-". Beside the parts, the floors (bench/e2e_floors.py) and
the ratio to them. Then the warehouse's totals per source and day are checked against plain DuckDB over the
files: the harness exits non-zero when they differ or when `aispend run` fails. A watchdog kills `aispend run`
past `--mem-limit-gb` (16) of RSS: the machine is shared, and the OOM killer would pick a neighbour.

Generation is not timed. The machine is shared: the load average before each run is printed with it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchkit import fmt, parse_count, tree_rss_gb  # noqa: E402
from e2e_bills import redeliver  # noqa: E402
from e2e_files import Written, add_day, bytes_per_event, generate  # noqa: E402
from e2e_floors import USAGE_SOURCES, day_files, read_floors, source_files, store_floors, totals_differences  # noqa: E402
from pipelines.graph import BY_NAME, MONTH, loaded_tables  # noqa: E402
from pipelines.timings import ENV, PREFIX  # noqa: E402

SCENARIOS = ("first", "daily", "redelivery")
TITLES = {"first": "first load of the whole history", "daily": "daily run: one new day of usage files",
          "redelivery": "re-delivered billing month: a new CUR manifest for the last month"}
# Disk besides the source files, per event, at the peak (warehouse, priced Parquet and the bulk-insert floor).
OTHER_BYTES_PER_EVENT = 160
STAGE = re.compile(r"\[aispend\] running (?!\d+ assets)(?P<steps>.+?)(?: \[(?P<window>[^\]]+)\])?$")
DONE = re.compile(r"\[aispend\]\s+(?:done|FAILED) in [\d.]+ s")
SOURCE = re.compile(r" - (?P<source>[\w.-]+): reading kind ")


@dataclass
class Row:
    part: str
    seconds: float
    events: int | None = None
    rss_gb: float | None = None
    floor_s: float | None = None
    floor: str = ""

    def line(self) -> str:
        rate = self.events / self.seconds if self.events and self.seconds > 0 else None
        ratio = self.seconds / self.floor_s if self.floor_s else None
        return (f"{self.part:<48}{self.seconds:>9.1f}{fmt(rate, ',.0f'):>12}{fmt(self.rss_gb, '.2f'):>9}"
                f"{fmt(self.floor_s, '.1f'):>9}{fmt(ratio, '.1f'):>8}  {self.floor}")


HEADER = f"{'part':<48}{'wall s':>9}{'events/s':>12}{'RSS GB':>9}{'floor s':>9}{'x floor':>8}  floor"


@dataclass
class Trace:
    """What one `aispend run` printed (stderr lines with the time each arrived) and the RSS samples."""

    started: float
    ended: float
    code: int
    lines: list[tuple[float, str]]
    samples: list[tuple[float, float]]
    killed: str | None = None

    def peak(self, start: float, end: float) -> float | None:
        inside = [gb for t, gb in self.samples if start <= t <= end]
        return max(inside) if inside else None


def run_aispend(root: Path, log_path: Path, mem_limit_gb: float) -> Trace:
    """`aispend run --config root/aispend.yaml` as a user runs it, its stderr timed line by line, its RSS sampled;
    killed when its RSS passes `mem_limit_gb` (the machine is shared: the OOM killer would pick a neighbour)."""
    script = Path(sys.executable).with_name("aispend")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pipelines.cli"]
    home = root / ".dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, ENV: "1", "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    samples: list[tuple[float, float]] = []
    lines: list[tuple[float, str]] = []
    killed: list[str] = []
    started = time.monotonic()
    with open(log_path, "w") as log:
        child = subprocess.Popen([*command, "run", "--config", str(root / "aispend.yaml")], stdout=log,
                                 stderr=subprocess.PIPE, text=True, env=env, cwd=root)

        def sample() -> None:
            while child.poll() is None:
                samples.append((time.monotonic(), tree_rss_gb(child.pid)))
                if samples[-1][1] > mem_limit_gb:
                    killed.append(f"killed: its RSS passed {mem_limit_gb:g} GB ({samples[-1][1]:.1f} GB)")
                    child.kill()
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for text in child.stderr:
            lines.append((time.monotonic(), text.rstrip("\n")))
            log.write(text)
            log.flush()
        code = child.wait()
        sampler.join()
    return Trace(started, time.monotonic(), code, lines, samples, killed[0] if killed else None)


def window_events(written: Written, step: str, window: str | None) -> int | None:
    """The events a step's days hold (None for steps that read no usage)."""
    if "usage_events" not in loaded_tables(step):
        return None
    per_day = {date.fromisoformat(d): n for d, n in written.per_day.items()}
    if window is None or BY_NAME[step].grain is None:
        return sum(per_day.values())
    first, _, last = window.partition(" .. ")
    start, end = date.fromisoformat(first), date.fromisoformat(last or first)
    if BY_NAME[step].grain == MONTH:
        end = (end.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return sum(n for d, n in per_day.items() if start <= d <= end)


def load_rows(trace: Trace, record: dict, at: float, starts: dict[str, float], floors: dict) -> list[Row]:
    """A load step's parts per source, the store row (all sources' writes) and publishing."""
    rows, parts = [], record["parts"]
    order = [s for s in sorted(starts, key=starts.get) if any(p.startswith(f"{s}/") for p in parts)]
    if not order:  # a table no configured source feeds
        return [Row(f"  {record['step']} (no source)", record["seconds"])]
    for k, source in enumerate(order):
        read_s = parts.get(f"{source}/fingerprint", 0.0) + parts.get(f"{source}/parse", 0.0)
        floor = floors["read"].get(source, {})
        rss = trace.peak(starts[source], starts[order[k + 1]] if k + 1 < len(order) else at)
        rows.append(Row(f"  {source}: fetch, checksum, parse, normalize", read_s, record["rows"].get(source), rss,
                        floor.get("seconds"), floor.get("how", "")))
        for part in ("price", "write"):
            if f"{source}/{part}" in parts:
                rows.append(Row(f"  {source}: {part}", parts[f"{source}/{part}"], record["rows"].get(source)))
    writes = sum(v for k, v in parts.items() if k.endswith("/write"))
    store = floors.get("store") if record["step"] == "usage_events" else None
    rows.append(Row("  store (every source's writes)", writes, sum(record["rows"].values()) or None, None,
                    store["seconds"] if store else None, store["how"] if store else ""))
    return rows


def stage_rows(trace: Trace, written: Written, floors: dict) -> list[Row]:
    """The run cut into start-up, planning, stages with their steps and parts, and the summary at the end."""
    rows: list[Row] = []
    boundary, stage, begun, records, starts = trace.started, None, 0.0, [], {}
    for at, text in trace.lines:
        if m := STAGE.search(text):
            label = "start-up (Python, config, Dagster import)" if not rows else "planning the next stage"
            rows.append(Row(label, at - boundary, None, trace.peak(boundary, at)))
            stage, begun, records, starts = m, at, [], {}
        elif PREFIX in text and stage is not None:
            records.append((at, json.loads(text.split(PREFIX, 1)[1])))
        elif (s := SOURCE.search(text)) and stage is not None:
            starts[s["source"]] = at
        elif DONE.search(text) and stage is not None:
            window = stage["window"]
            steps = stage["steps"].split(", ")
            events = sum(r["rows"].get(s, 0) for _, r in records for s in r["rows"]) or window_events(
                written, steps[0], window)
            name = stage["steps"] if len(stage["steps"]) <= 30 else f"{steps[0]} and {len(steps) - 1} more steps"
            rows.append(Row(name + (f" [{window}]" if window else ""), at - begun, events, trace.peak(begun, at)))
            for done_at, record in records:
                if BY_NAME[record["step"]].step == "load":
                    rows += load_rows(trace, record, done_at, starts, floors)
                elif len(steps) > 1:
                    step = record["step"]
                    rows.append(Row(f"  {step}", record["seconds"] - record["parts"].get("publish", 0.0),
                                    window_events(written, step, window) if BY_NAME[step].step == "mart" else None,
                                    trace.peak(done_at - record["seconds"], done_at)))
            publish = sum(r["parts"].get("publish", 0.0) for _, r in records)
            rows.append(Row("  publish snapshots", publish))
            rows.append(Row("  Dagster run and asset checks", at - begun - sum(r["seconds"] for _, r in records)))
            boundary, stage = at, None
    rows.append(Row("summary and exit", trace.ended - boundary, None, trace.peak(boundary, trace.ended)))
    return rows


def scenario_floors(root: Path, files: dict[str, list[str]], days: list[date]) -> tuple[dict, dict]:
    """The floors on the files this run read new, and on the priced rows of the days it loaded; the files' totals."""
    read, totals = read_floors(files, root / "floors")
    out = {"read": read}
    if days:
        out["store"] = store_floors(root / "warehouse" / "aispend.duckdb", days, root / "floors")
    return out, totals


def run_scenario(root: Path, scenario: str, written: Written, files: dict[str, list[str]], days: list[date],
                 mem_limit_gb: float, expected: dict[tuple, tuple]) -> dict:
    """Run `aispend run`, measure the floors on the new files, print the table; `expected` (the files' totals per
    source and day) takes the new files' totals and is checked against the warehouse."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n== {scenario}: {TITLES[scenario]}; load average before: {load}", flush=True)
    trace = run_aispend(root, root / f"aispend-run-{scenario}.log", mem_limit_gb)
    floors, totals = scenario_floors(root, files, days)
    if scenario == "redelivery":  # the month's new delivery replaces its old lines
        month = {key[1].strftime("%Y-%m") for key in totals}
        for key in [k for k in expected if k[0] == "cur" and k[1].strftime("%Y-%m") in month]:
            del expected[key]
    expected.update(totals)
    rows = stage_rows(trace, written, floors)
    loaded = sum(r.events or 0 for r in rows if r.part.endswith("fetch, checksum, parse, normalize")
                 and r.part.strip().split(":")[0] in USAGE_SOURCES)
    floor_total = sum(f["seconds"] for f in floors["read"].values()) + floors.get("store", {}).get("seconds", 0)
    rows.append(Row("total (aispend run, end to end)", trace.ended - trace.started, loaded or None,
                    max((gb for _, gb in trace.samples), default=None), floor_total,
                    "sum of the floors: reading every file + storing the priced rows"))
    print(HEADER)
    for row in rows:
        if row.seconds >= 0.05 or not row.part.startswith("planning"):  # most stages need no planning
            print(row.line())
    problems = totals_differences(expected, root / "warehouse" / "aispend.duckdb")
    print(f"aispend run exit code {trace.code}{' (' + trace.killed + ')' if trace.killed else ''}; "
          "warehouse totals per source and day "
          + ("equal plain DuckDB over the files" if not problems else f"DIFFER in {len(problems)} places:"))
    for problem in problems[:10]:
        print(f"  {problem}")
    warehouse = sum(p.stat().st_size for p in (root / "warehouse").rglob("*") if p.is_file())
    scratch = max([f.get("bytes", 0) for f in floors["read"].values()] + [floors.get("store", {}).get("bytes", 0)])
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"disk: warehouse and snapshots {warehouse / 1e9:.2f} GB, floors' scratch at most {scratch / 1e9:.2f} GB; "
          f"load average after: {load_after}", flush=True)
    return {"load_before": load, "load_after": load_after, "exit_code": trace.code, "killed": trace.killed,
            "totals_equal": not problems,
            "rows": [asdict(r) for r in rows], "floors": floors}


def check_disk(base: Path, events: int, days: int, force: bool) -> float:
    """Estimate what the run writes from a sample day of the same mix; refuse when the disk cannot hold it.
    Returns the estimated bytes at the peak."""
    scratch = base / "disk-sample"
    shutil.rmtree(scratch, ignore_errors=True)
    per_event = bytes_per_event(scratch, min(events, 20_000))
    shutil.rmtree(scratch)
    files = per_event * events * (1 + 1 / days)
    need = files + OTHER_BYTES_PER_EVENT * events
    free = shutil.disk_usage(base).free
    print(f"disk: source files about {files / 1e9:,.1f} GB ({per_event:.0f} bytes per event), with warehouse and "
          f"floors at most about {need / 1e9:,.1f} GB; {free / 1e9:,.1f} GB free on {base}", flush=True)
    if need > 0.9 * free and not force:
        raise SystemExit("not enough free disk for this size (use --force to try anyway)")
    return need


def reusable(root: Path, events: int, days: int, today: date) -> Written | None:
    """The files an earlier run generated, if they are exactly what this one would generate: the same events
    and days, ending the day before yesterday, and no later scenario (a new day, a re-delivery) ran on them."""
    return None if not_reusable(root, events, days, today) else Written.load(root)


def not_reusable(root: Path, events: int, days: int, today: date) -> str | None:
    """Why the files in `root` are not what this run would generate (None: they are), said on --reuse so a run
    that generates anew for 5 to 15 minutes says why."""
    try:
        written = Written.load(root)
    except (OSError, ValueError, KeyError):
        return f"no files a --keep run left in {root}"
    changed = [s for s in SCENARIOS[1:] if (root / f"aispend-run-{s}.log").exists()]
    wanted_end = today - timedelta(days=2)
    if changed:
        return f"the {', '.join(changed)} scenario changed those files"
    if written.events != events or len(written.days) != days:
        return f"they hold {written.events:,} events over {len(written.days)} days"
    if written.days[-1] != wanted_end:
        return f"they end {written.days[-1]}, and the history now ends the day before yesterday, {wanted_end}"
    return None


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="10M", help="events in the history, e.g. 1M, 10M, 100M")
    parser.add_argument("--days", type=int, default=120, help="days the history spans (ending the day before yesterday)")
    parser.add_argument("--dir", default="/tmp/aispend-e2e", help="where the files and the warehouse go")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS))
    parser.add_argument("--keep", action="store_true", help="keep the files and the warehouse afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the files a run with --keep left for the same --events and --days, if no later "
                             "scenario changed them (generating 100M events takes about 15 minutes)")
    parser.add_argument("--force", action="store_true", help="run even when the disk estimate says it will not fit")
    parser.add_argument("--mem-limit-gb", type=float, default=16.0, help="kill `aispend run` past this RSS")
    parser.add_argument("--estimate", action="store_true",
                        help="only print the disk estimate (from a sample of 20,000 events) and stop")
    args = parser.parse_args(argv)
    events, wanted = parse_count(args.events), args.scenarios.split(",")
    if wanted[0] != "first" or not set(wanted) <= set(SCENARIOS):
        parser.error(f"--scenarios: start with first (the others run on its history); known: {', '.join(SCENARIOS)}")
    base = Path(args.dir)
    if args.estimate:  # generates nothing but the sample, which check_disk deletes
        base.mkdir(parents=True, exist_ok=True)
        return {"events": events, "days": args.days, "disk_bytes": check_disk(base, events, args.days, force=True)}
    root = base / f"n{events}"
    today = datetime.now(timezone.utc).date()
    written = reusable(root, events, args.days, today) if args.reuse else None
    if written is not None:
        print(f"reusing the {events:,} events over {args.days} days in {root}; a new warehouse", flush=True)
        for made in ("warehouse", "floors", ".dagster_home", *(f"aispend-run-{s}.log" for s in SCENARIOS)):
            if (root / made).is_dir():
                shutil.rmtree(root / made)
            else:
                (root / made).unlink(missing_ok=True)
    else:
        if args.reuse:
            print(f"not reusing: {not_reusable(root, events, args.days, today)}", flush=True)
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        check_disk(base, events, args.days, args.force)
        print(f"generating {events:,} events over {args.days} days ending {today - timedelta(days=2)} in {root} "
              f"(not timed)", flush=True)
        started = time.perf_counter()
        written = generate(root, events, args.days, today)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    split = ", ".join(f"{f} {n:,} ({n / written.events:.1%})" for f, n in written.per_format.items())
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    print(f"files: {split}; {size / 1e9:.2f} GB", flush=True)
    results: dict = {"events": events, "days": args.days, "scenarios": {}}
    expected: dict[tuple, tuple] = {}  # the files' totals per source and day, as the scenarios add files
    for scenario in wanted:
        if scenario == "first":
            files, days = source_files(root), list(written.days)
        elif scenario == "daily":
            new_day, counts = add_day(root, written)
            files, days = day_files(root, new_day), [new_day]
            print(f"\nadded {new_day}: {sum(counts.values()):,} events ({counts})")
        else:
            files, days = {"cur": [str(redeliver(root, written.months[-1])[0])]}, []
        results["scenarios"][scenario] = run_scenario(root, scenario, written, files, days, args.mem_limit_gb,
                                                      expected)
    results["split"] = written.per_format  # events per format in the files, the daily run's day included
    (base / f"results-n{events}.json").write_text(json.dumps(results, indent=1, default=str))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    failed = [s for s, r in results["scenarios"].items() if r["exit_code"] != 0 or not r["totals_equal"]]
    if failed and argv is None:
        raise SystemExit(f"failed: {', '.join(failed)}")
    return results


if __name__ == "__main__":
    main()
