"""Small helpers the benchmarks share: event counts written as `10M`, a process tree's memory, number formats."""

from __future__ import annotations

from pathlib import Path


def parse_count(text: str) -> int:
    """`20k`, `10M`, `1.5G` or `1000000` as an integer."""
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMG")) * scale)


def rss_gb(pid: int) -> float:
    """Resident memory of one process (VmRSS), in GB; 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    """A process and every process below it (children of each of its threads, recursively)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(c) for c in children.read_text().split()]
            except (OSError, ValueError):
                continue
    return found


def tree_rss_gb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in GB."""
    return sum(rss_gb(p) for p in descendants(pid))


def fmt(value, spec: str) -> str:
    """`value` formatted, or `-` when there is none."""
    return "-" if value is None else format(value, spec)
