"""privacy.pseudonymize_people: with it on, no configured name, email or login is stored anywhere.

The whole pipeline runs over people, subscriptions, a Copilot seat snapshot, a Claude Code report and usage logs
that all name the same people; then every table of the warehouse, every snapshot and the run's output are
searched, both as bytes and (because DuckDB and Parquet compress strings) value by value through SQL. The same
run with the switch off finds every one of them: the search can fail. Pseudonyms are recomputed here from the key
with HMAC-SHA256 (not with the code under test) and must be what the warehouse holds.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import duckdb
import pytest

from pipelines.config import ConfigError, load_config
from pipelines.plan import run_in_process
from pipelines.privacy import scrub
from tests.support.people_inputs import (EMAILS, END_USER, KEY, KEY_ENV, LOGINS, NAMES, SECRETS,
                                         write_people_inputs)

def _string_values(con: duckdb.DuckDBPyConnection, relations: list[str]) -> str:
    """Every text value of every relation, lowercased and joined: what a reader of the data could see."""
    out = []
    for relation in relations:
        columns = con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        for name, kind, *_ in columns:
            if kind.startswith("VARCHAR"):
                out += [str(v) for (v,) in con.sql(f'SELECT DISTINCT "{name}" FROM {relation}').fetchall()]
    return "\n".join(out).lower()


def _found(root: Path, output: str) -> dict[str, list[str]]:
    """Where each secret shows up: warehouse bytes, warehouse values, snapshot bytes, snapshot values, output."""
    config = load_config(root / "aispend.yaml")
    files = sorted(config.snapshot_path.glob("*.parquet"))
    raw = config.warehouse_path.read_bytes().lower()
    snap_bytes = b"".join(f.read_bytes() for f in files).lower()
    con = duckdb.connect(str(config.warehouse_path), read_only=True)
    tables = [t for (t,) in con.sql("SELECT table_name FROM information_schema.tables").fetchall()]
    values = _string_values(con, tables)
    con.close()
    snaps = _string_values(duckdb.connect(), [f"read_parquet('{f}')" for f in files])
    places = {"warehouse bytes": raw.decode("latin-1"), "warehouse values": values,
              "snapshot bytes": snap_bytes.decode("latin-1"), "snapshot values": snaps, "output": output.lower()}
    return {s: [where for where, text in places.items() if s.lower() in text] for s in SECRETS}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv(KEY_ENV, KEY)
    out = {}
    for on in (True, False):
        root = write_people_inputs(tmp_path_factory.mktemp("privacy") / ("on" if on else "off"), on).parent
        lines: list[str] = []
        results = run_in_process(load_config(root / "aispend.yaml"), lines.append)
        out[on] = (root, results, "\n".join(lines))
    yield out
    mp.undo()


def test_with_the_switch_on_no_name_email_or_login_is_stored_or_said(runs):
    root, results, output = runs[True]
    assert _found(root, output) == {s: [] for s in SECRETS}
    quarantined = [r for r in results if r.status == "quarantined"]
    assert [r.source for r in quarantined] == ["bad_subs"]  # refused, and its message names nobody either


def test_the_same_run_with_the_switch_off_finds_them_all(runs):
    """The control: the search above is able to find what it looks for."""
    root, _, output = runs[False]
    found = _found(root, output)
    # names reach the marts' snapshots (person_monthly); every value is in the warehouse, as values and as bytes
    assert all({"snapshot values", "snapshot bytes"} <= set(found[s]) for s in NAMES), found
    assert all({"warehouse values", "warehouse bytes"} <= set(found[s]) for s in SECRETS), found


def test_pseudonyms_are_the_keyed_hash_of_the_normalized_value(runs):
    root, _, _ = runs[True]
    expect = lambda value: "p_" + hmac.new(KEY.encode(), value.strip().lower().encode(), hashlib.sha256).hexdigest()[:20]
    con = duckdb.connect(str(load_config(root / "aispend.yaml").warehouse_path), read_only=True)
    people = set(con.sql("SELECT identity, person, team FROM people").fetchall())
    assert people == {(expect(EMAILS[0]), expect(NAMES[0]), "platform"), (expect(LOGINS[0]), expect(NAMES[0]), "platform"),
                      (expect(EMAILS[1]), expect(NAMES[1]), "data"), (expect(LOGINS[1]), expect(NAMES[1]), "data")}
    assert set(con.sql("SELECT user_id FROM usage_events").fetchall()) == {(expect(EMAILS[1]),), (expect(END_USER),)}
    # the people still meet: Ana's Copilot seat, Claude plan and Claude Code report are one person's rows
    ana = con.sql("SELECT vendor, plan, seats, sessions FROM person_monthly WHERE person = ? AND month = '2026-11-01' "
                  "ORDER BY vendor", params=[expect(NAMES[0])]).fetchall()
    assert ana == [("anthropic", "max_20x", 1, 2), ("github", "business", 1, None)]
    bob = con.sql("SELECT vendor, plan FROM person_monthly WHERE person = ? AND month = '2026-11-01' ORDER BY 1, 2",
                  params=[expect(NAMES[1])]).fetchall()
    assert bob == [("github", "business"), ("openai", "api"), ("openai", "plus")]


def test_a_missing_key_refuses_the_config(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    config = write_people_inputs(tmp_path / "p", True)
    with pytest.raises(ConfigError, match=f"pseudonymize_people is on but the environment variable {KEY_ENV} is not set"):
        load_config(config)


def test_scrub_hides_emails_and_quoted_values():
    message = "entry 2: could not parse `\"Bob King,data,bob@acme.com\n` as str; user 'carol' or \"dave x\" (eve@x.io)"
    assert scrub(message) == "entry 2: could not parse <value hidden> as str; user <value hidden> or <value hidden> " \
                             "(<email hidden>)"
    fenced = "could not parse `\"Bob King,x\n` at column `person`\n\nOriginal error: ```invalid\n\nField `\"Bob King` bad```"
    assert scrub(fenced) == "could not parse <value hidden>"
