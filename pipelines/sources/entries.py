"""Files people write by hand (the people mapping, subscriptions): a YAML list of entries, or a CSV with a row each.

Validation speaks of entries ("entry 3: ..."), not bytes, and never quotes a value that could be a name or an
email: these files are person data, and a message lands in ingest_log and the run's output. A few dozen to a few
thousand entries: plain Python over entries is fine here, unlike over usage events.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import yaml

from pipelines.errors import SourceError
from pipelines.sources.common import read_table, utf8


class _Repeated(Exception):
    def __init__(self, key: str, line: int):
        super().__init__(key)
        self.key, self.line = key, line


class _Loader(yaml.SafeLoader):
    """YAML's safe loader refusing a key given twice in one mapping (PyYAML keeps the last, silently)."""


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _Repeated(str(key), key_node.start_mark.line + 1)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_entries(path: str, data: bytes | None, list_key: str) -> list[dict[str, Any]]:
    """The entries of a `.yaml`/`.yml` file (a bare list, or a list under `list_key:`) or of a `.csv` file."""
    name = path.lower()
    if name.endswith((".csv", ".csv.gz")):
        frame = read_table(path, data, list_key, parquet=False)
        frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
        return frame.to_dicts()
    if not name.endswith((".yaml", ".yml")):
        raise SourceError(path, f"unsupported file type for {list_key} (expected .yaml, .yml or .csv)")
    if data is None:
        from pipelines.sources.common import read_bytes

        data = read_bytes(path)
    text = utf8(path, data)  # invalid UTF-8 is named by its line and byte, never quoted
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except _Repeated as exc:  # which of the two values counts is never guessed
        raise SourceError(path, f"{exc.key!r} appears twice in one entry (which value counts is not guessed)",
                          row=exc.line, column=exc.key, unit="line") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" near line {where.line + 1}" if where is not None else ""
        raise SourceError(path, f"not valid YAML{line}") from None  # the parser's text would quote the line
    if doc is None:
        return []
    entries = doc.get(list_key) if isinstance(doc, dict) else doc
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise SourceError(path, f"expected a list of entries (a bare list, or a list under `{list_key}:`)")
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise SourceError(path, f"entry {i}: expected a mapping of fields", row=i)
    return entries


def text(value: Any) -> str | None:
    if value is None:
        return None
    out = str(value).strip()
    return out or None


def number(path: str, i: int, name: str, value: Any, *, minimum: float = 0.0) -> float | None:
    """A finite number >= minimum, or None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    bad = SourceError(path, f"entry {i}: {name} must be a finite number >= {minimum:g}", row=i, column=name)
    if isinstance(value, bool):
        raise bad
    try:
        out = float(str(value).strip())
    except ValueError:
        raise bad from None
    if math.isnan(out) or math.isinf(out) or out < minimum:
        raise bad
    return out


def day(path: str, i: int, name: str, value: Any) -> date | None:
    """A date (YAML gives date objects; CSV text like 2026-01-31), or None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise SourceError(path, f"entry {i}: {name} must be a date (YYYY-MM-DD)", row=i, column=name) from None


def unknown_fields(path: str, i: int, entry: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(str(k) for k in entry if str(k).strip() not in known)
    if unknown:
        raise SourceError(path, f"entry {i}: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})",
                          row=i, column=unknown[0])
