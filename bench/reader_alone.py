"""One reader on its own, on the files of an end-to-end history, beside DuckDB reading the same files in the same
run: where bench/end_to_end.py shows that a reader is slow, this shows how fast a change makes it, in seconds.

    .venv/bin/python bench/reader_alone.py DIR                          # Bedrock: 96 hourly files as written
    .venv/bin/python bench/reader_alone.py DIR --files 26 --cut 10      # each cut in 10, as Bedrock writes them
    .venv/bin/python bench/reader_alone.py DIR --source litellm --files 2

DIR is a history bench/end_to_end.py wrote (its `n<events>` folder: the files and aispend.yaml). `--cut K` writes
each file again as K files of consecutive lines (into DIR/../cut, gzipped as the originals), since Bedrock writes
a file every few minutes while the harness writes one an hour. In this process, the best of `--repeat` runs:
- `read`, each file alone;
- for a kind with `read_many`, the files as ingest groups them (`file_units` and `ingest._groups`: runs of up to
  32 files of at most 1 MB as stored, in one call, the others alone); the frames must equal `read`'s, file by
  file, or the script exits 1;
- the floor bench/end_to_end.py sets beside the reader (bench/e2e_floors.py): DuckDB reading the same files into a
  table of the same columns in a scratch file, committed.
The files are read from disk once before timing; the readers get their bytes, as ingest hands them over.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import time
from pathlib import Path

from polars.testing import assert_frame_equal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from e2e_floors import read_floors  # noqa: E402
from pipelines.config import load_config  # noqa: E402
from pipelines.ingest import _groups  # noqa: E402
from pipelines.sources import specs  # noqa: E402
from pipelines.sources.units import file_units  # noqa: E402

PATTERNS = {"bedrock": "bedrock/AWSLogs/**/*.json.gz", "litellm": "litellm/*.csv", "otel": "otel/*.jsonl.gz"}


def cut(files: list[Path], root: Path, parts: int) -> list[Path]:
    """Each file as `parts` files of consecutive lines, in the same folders under ROOT/../cut."""
    out = []
    for path in files:
        lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
        for k in range(parts):
            target = root.parent / "cut" / path.relative_to(root).with_name(path.name.replace(".json", f"_{k}.json"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(gzip.compress(b"".join(lines[k * len(lines) // parts:(k + 1) * len(lines) // parts])))
            out.append(target)
    return out


def ingest_groups(config, source, spec, paths: list[str]) -> list[list[str]]:
    """The files as ingest groups them: `file_units` decides which may be read together (by stored size) and
    `ingest._groups` makes the runs, so this measures what a run does."""
    wanted = {str(Path(p).resolve()) for p in paths}
    chosen = [u for u in file_units(config, source, spec) if str(Path(u.location).resolve()) in wanted]
    return [[str(Path(u.location).resolve()) for u in group] for group in _groups(chosen)]


def best(repeat: int, work) -> tuple[float, object]:
    seconds, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        seconds = min(seconds, time.perf_counter() - started)
    return seconds, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path, help="a history of bench/end_to_end.py (its n<events> folder)")
    parser.add_argument("--source", choices=sorted(PATTERNS), default="bedrock")
    parser.add_argument("--files", type=int, default=96, help="the first N files of the source (default 96)")
    parser.add_argument("--cut", type=int, default=1, help="write each file again as this many (default 1: as is)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    root = args.dir.resolve()
    config = load_config(str(root / "aispend.yaml"))
    source = next(s for s in config.sources if s.name == args.source)
    spec = specs()[source.kind]
    paths = sorted(root.glob(PATTERNS[args.source]))[: args.files]
    if not paths:
        print(f"no {args.source} files under {root}", file=sys.stderr)
        return 2
    if args.cut > 1:
        if not paths[0].name.endswith(".gz") or args.source == "litellm":
            parser.error("--cut cuts gzipped JSON lines (bedrock, otel)")
        shutil.rmtree(root.parent / "cut", ignore_errors=True)
        paths = cut(paths, root, args.cut)
        source = source.model_copy(update={"path": str(root.parent / "cut" / source.path)})
    files = [(str(p.resolve()), p.read_bytes()) for p in paths]
    print(f"{args.source}: {len(files)} files, {sum(len(d) for _, d in files) / 1e6:.1f} MB as stored; "
          f"load average {os.getloadavg()[0]:.2f}")

    scratch = root.parent / "floors-alone"
    floors = [read_floors({args.source: [p for p, _ in files]}, scratch)[0][args.source] for _ in range(args.repeat)]
    floor, rows = min(f["seconds"] for f in floors), floors[0]["rows"]
    alone, frames = best(args.repeat, lambda: [spec.read(p, source, data=d) for p, d in files])
    records = sum(f.height for f in frames)
    print(f"  DuckDB over the same files (the floor)  {floor:7.2f} s  {rows:>10,} rows")
    print(f"  read, each file alone                   {alone:7.2f} s  {records:>10,} rows  {alone / floor:5.1f}x")
    if spec.read_many is not None:
        data = dict(files)
        grouped = [[(path, data[path]) for path in group] for group in ingest_groups(config, source, spec, list(data))]
        if sum(map(len, grouped)) != len(files):
            print("ingest's listing of the source does not hold every file measured", file=sys.stderr)
            return 2

        def as_ingest():
            out = []
            for group in grouped:
                if len(group) > 1:
                    out.extend(spec.read_many(group, source))
                else:
                    out.append(spec.read(group[0][0], source, data=group[0][1]))
            return out

        together, many = best(args.repeat, as_ingest)
        alone_by_path = {path: frame for (path, _), frame in zip(files, frames)}
        for (path, _), other in zip([item for group in grouped for item in group], many):
            try:
                assert_frame_equal(alone_by_path[path], other)
            except AssertionError:
                print(f"read_many and read differ on {path}", file=sys.stderr)
                return 1
        label = f"as ingest groups them ({len(grouped)} calls)"
        print(f"  {label:<38}  {together:7.2f} s  {records:>10,} rows  {together / floor:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
