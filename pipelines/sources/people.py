"""The people file: every identity a source uses, mapped to one person and team, into the `people` table.

So a person's Copilot seat (a GitHub login), Claude Code sessions (an email, or a machine user in local logs)
and API calls (a `user.id` attribute, an API key name) meet in person_monthly. YAML:

    people:
      - person: Ana Lima
        team: platform
        since: 2026-01-01          # optional: the mapping holds from this day (a move to another team)
        email: [ana@acme.com]      # each identity kind takes one value or a list
        github: analima
        api_key: ana-laptop
        user_id: u-123
        machine_user: ana

or CSV with columns `person, team, kind, identity[, since]` (one identity per row). Identities are compared
trimmed and lowercased; with `privacy.pseudonymize_people` both identities and names are stored as keyed hashes
(pipelines/privacy.py). An identity given to two people from the same day is refused: the rows would double.
Messages name entries and fields, never values (this file is person data).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.errors import SourceError
from pipelines.schemas import PEOPLE, conform
from pipelines.sources.bounds import refuse_bad_values
from pipelines.sources.entries import day, read_entries, text, unknown_fields
from pipelines.sources.spec import SourceSpec

# Field names (singular or plural) -> identity kind.
KINDS = {
    "email": "email", "emails": "email",
    "github": "github", "github_login": "github", "github_logins": "github",
    "api_key": "api_key", "api_keys": "api_key", "api_key_name": "api_key", "api_key_names": "api_key",
    "user_id": "user_id", "user_ids": "user_id",
    "machine_user": "machine_user", "machine_users": "machine_user",
}
CSV_FIELDS = {"person", "team", "kind", "identity", "since"}


def _yaml_rows(path: str, i: int, entry: dict[str, Any]) -> list[dict]:
    unknown_fields(path, i, entry, {"person", "team", "since", *KINDS})
    base = {"person": text(entry.get("person")), "team": text(entry.get("team")),
            "valid_from": day(path, i, "since", entry.get("since"))}
    rows = []
    for field, kind in KINDS.items():
        values = entry.get(field)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, (dict, list)):
                raise SourceError(path, f"entry {i}: {field} takes a value or a list of values", row=i, column=field)
            if text(value):
                rows.append({**base, "identity": text(value), "identity_kind": kind})
    if not rows:
        raise SourceError(path, f"entry {i}: names no identity (give one of {', '.join(sorted(set(KINDS.values())))})",
                          row=i)
    return rows


def _csv_row(path: str, i: int, entry: dict[str, Any]) -> dict:
    unknown_fields(path, i, entry, CSV_FIELDS)
    kind = text(entry.get("kind"))
    if kind is None or kind.lower() not in KINDS:
        raise SourceError(path, f"entry {i}: kind must be one of {', '.join(sorted(set(KINDS.values())))}", row=i,
                          column="kind")
    if not text(entry.get("identity")):
        raise SourceError(path, f"entry {i}: missing identity", row=i, column="identity")
    return {"person": text(entry.get("person")), "team": text(entry.get("team")), "identity": text(entry["identity"]),
            "identity_kind": KINDS[kind.lower()], "valid_from": day(path, i, "since", entry.get("since"))}


def read(path: str, source, data: bytes | None = None) -> pl.DataFrame:
    entries = read_entries(path, data, "people")
    csv = path.lower().endswith((".csv", ".csv.gz"))
    rows: list[dict] = []
    first: dict[tuple, int] = {}
    for i, entry in enumerate(entries, start=1):
        found = [_csv_row(path, i, entry)] if csv else _yaml_rows(path, i, entry)
        for row in found:
            if row["person"] is None:
                raise SourceError(path, f"entry {i}: missing person", row=i, column="person")
            key = (row["identity"].lower(), row["valid_from"])
            if key in first and rows[first[key]]["person"] != row["person"]:
                raise SourceError(path, f"entry {i}: an identity of this entry is already given to another person "
                                  f"(entry {rows[first[key]]['entry']}) from the same day", row=i)
            first.setdefault(key, len(rows))
            rows.append({**row, "entry": i})
    frame = pl.DataFrame(rows, schema={**PEOPLE, "entry": pl.Int64}) if rows else pl.DataFrame(schema=PEOPLE)
    if rows:  # named by entry: an entry with two emails is two rows here
        refuse_bad_values(frame.drop("entry"), "people", path, rows=frame["entry"], names={"valid_from": "since"})
    return conform(frame.with_columns(pl.lit(source.name).alias("x_source")), PEOPLE)


SPEC = SourceSpec(kind="people", table="people", read=read, doc="docs/sources/seats_and_agents.md",
                  summary="the people file: emails, GitHub logins, API key names, user ids and machine users mapped "
                          "to a person and team (YAML or CSV)")
