"""The task catalog: what one run of each task would cost a person, so AI spend can be weighed against it.

Written by hand (YAML or CSV), so validation speaks of entries ("entry 3 (task 'summarize')"), not bytes.
The catalog is a few dozen rows: plain Python over entries is fine here, unlike over usage events.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from pipelines.errors import SourceError
from pipelines.schemas import TASKS, conform
from pipelines.sources.common import NULL_STRINGS

NUMBERS = ["human_minutes", "hourly_rate_usd", "review_minutes"]
REQUIRED_NUMBERS = ["human_minutes", "hourly_rate_usd"]
DEFAULTS = {"review_minutes": 0.0, "latency_sensitive": True, "eligible_models": None, "description": None}
TRUE = {"true", "yes", "y", "1", "t"}
FALSE = {"false", "no", "n", "0", "f"}


def read_task_catalog(path: str) -> pl.DataFrame:
    entries = _entries(path)
    rows = [_entry(path, i, e) for i, e in enumerate(entries, start=1)]
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        if row["task"] in seen:
            raise SourceError(path, f"entry {i}: duplicate task {row['task']!r} (first at entry {seen[row['task']]})",
                              row=i, column="task")
        seen[row["task"]] = i
    frame = pl.DataFrame(rows, schema=TASKS) if rows else pl.DataFrame(schema=TASKS)
    return conform(frame, TASKS)


def _entries(path: str) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.is_file():
        raise SourceError(path, "task catalog file not found")
    suffix = p.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        return _yaml_entries(path, p.read_text(encoding="utf-8-sig"))
    if suffix == ".csv":
        return _csv_entries(path)
    raise SourceError(path, "unsupported task catalog type (expected .yaml, .yml or .csv)")


def _yaml_entries(path: str, text: str) -> list[dict[str, Any]]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourceError(path, f"not valid YAML: {exc}") from exc
    if doc is None:
        return []
    entries = doc.get("tasks") if isinstance(doc, dict) else doc
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise SourceError(path, "expected a list of tasks (a bare list, or a list under `tasks:`)")
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise SourceError(path, f"entry {i}: expected a mapping with task, human_minutes, ...", row=i)
    return entries


def _csv_entries(path: str) -> list[dict[str, Any]]:
    try:
        frame = pl.read_csv(path, infer_schema=False, null_values=NULL_STRINGS, encoding="utf8-lossy")
    except Exception as exc:  # noqa: BLE001 - polars names the bad line
        raise SourceError(path, f"unreadable CSV: {exc}") from exc
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    return frame.to_dicts()


def _entry(path: str, i: int, entry: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(entry) - set(TASKS))
    task = _text(entry.get("task"))
    where = f"entry {i}" + (f" (task {task!r})" if task else "")
    if unknown:
        raise SourceError(path, f"{where}: unknown field(s) {', '.join(unknown)}", row=i, column=unknown[0])
    if not task:
        raise SourceError(path, f"{where}: missing task name", row=i, column="task")
    row = {"task": task, "description": _text(entry.get("description"))}
    for name in NUMBERS:
        row[name] = _number(path, i, where, name, entry.get(name), required=name in REQUIRED_NUMBERS)
    row["latency_sensitive"] = _flag(path, i, where, entry.get("latency_sensitive"))
    row["eligible_models"] = _models(path, i, where, entry.get("eligible_models"))
    return row


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(path: str, i: int, where: str, name: str, value: Any, *, required: bool) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SourceError(path, f"{where}: missing {name}", row=i, column=name)
        return DEFAULTS[name]
    if isinstance(value, bool):
        raise SourceError(path, f"{where}: {name} must be a number, got {value!r}", row=i, column=name)
    try:
        number = float(str(value).strip())
    except ValueError:
        raise SourceError(path, f"{where}: {name} must be a number, got {value!r}", row=i, column=name) from None
    if math.isnan(number) or math.isinf(number):
        raise SourceError(path, f"{where}: {name} must be a finite number, got {value!r}", row=i, column=name)
    if number < 0:
        raise SourceError(path, f"{where}: {name} must not be negative, got {value!r}", row=i, column=name)
    return number


def _flag(path: str, i: int, where: str, value: Any) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULTS["latency_sensitive"]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise SourceError(path, f"{where}: latency_sensitive must be true or false, got {value!r}", row=i,
                      column="latency_sensitive")


def _models(path: str, i: int, where: str, value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list):
        raise SourceError(path, f"{where}: eligible_models must be a list (or ';'-separated in CSV)", row=i,
                          column="eligible_models")
    models = [m for m in (_text(v) for v in value) if m]
    return models or None
