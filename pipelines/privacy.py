"""People's names, emails and logins: one place that normalizes them and, with one switch, hides them.

Every identity a source carries (usage_events.user_id, people.identity and people.person, seats.identity,
person_activity.identity) passes through `prepare_people` as its unit loads (pipelines/loads.py wraps each
table's frame preparation with it), so no reader handles privacy itself and none can forget to.

With `privacy.pseudonymize_people: true` each such value is replaced by a keyed hash: `p_` + the first 20 hex
digits of HMAC-SHA256(key, value), the value first trimmed and lowercased so `Ana@Acme.com` and `ana@acme.com`
are one person and the people file's mapping meets the sources' identities hash to hash. The key is read from the
environment variable `privacy.key_env` names (the config is refused without it, pipelines/config.py). The same
key always gives the same pseudonym, so a person's rows meet across sources and runs; without the key a
pseudonym cannot be turned back into a name (docs/sources/seats_and_agents.md, "Pseudonymization").

Quarantine messages of every source pass through `scrub` when the switch is on: an email-shaped word and any
quoted value (where readers and parsers quote the offending text) is replaced, so a bad row never carries a
name into ingest_log or the run's output.

The units' stamp (`stamp`) includes a fingerprint of the key: turning the switch on, or changing the key,
reloads every unit still listed, so what is stored follows the setting.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable

import polars as pl

from pipelines.config import AispendConfig

# The identity columns of each source-fed table: normalized and, with the switch on, hashed.
PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "usage_events": ("user_id",),
    "people": ("identity",),
    "seats": ("identity",),
    "person_activity": ("identity",),
}
# Names shown as written (`Ana Lima`), hashed like identities with the switch on: hash(normalized name), so a
# subscription naming the person by name meets the people file either way.
NAME_COLUMNS: dict[str, tuple[str, ...]] = {"people": ("person",)}
# Tables whose identities aispend owns (its own new tables): always trimmed and lowercased so they join. Identities
# in usage_events are kept as logged unless pseudonymized (other marts group by them as logged).
NORMALIZED_TABLES = {"people", "seats", "person_activity"}
PREFIX = "p_"
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
# Where parsers and readers put the offending text: 'x', "x", and `x`. Polars' CSV errors quote content in
# backticks, across lines and inside ```fences```: everything from the first backtick to the last goes.
_QUOTED = re.compile(r"`[\s\S]*`|'[^'\n]*'|\"[^\"\n]*\"")


def identity_key(col: pl.Expr) -> pl.Expr:
    """An identity as aispend compares it: trimmed, lowercased, blank as NULL."""
    text = col.cast(pl.String).str.strip_chars().str.to_lowercase()
    return pl.when(text != "").then(text)


def _key(config: AispendConfig) -> bytes | None:
    if not config.privacy.pseudonymize_people:
        return None
    return os.environ[config.privacy.key_env].strip().encode()


def pseudonym(key: bytes, value: str) -> str:
    """The pseudonym of one normalized value (tests and docs compute expected values with this)."""
    return PREFIX + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:20]


def _hashed(key: bytes) -> Callable[[pl.Series], pl.Series]:
    def apply(values: pl.Series) -> pl.Series:
        distinct = values.drop_nulls().unique()  # a few thousand people at most: one HMAC per distinct value
        hashed = pl.Series([pseudonym(key, v) for v in distinct.to_list()], dtype=pl.String)
        return values.replace_strict(distinct, hashed, default=None, return_dtype=pl.String)

    return apply


def hide(col: pl.Expr, key: bytes) -> pl.Expr:
    return identity_key(col).map_batches(_hashed(key), return_dtype=pl.String, is_elementwise=True)


def prepare_people(config: AispendConfig, table: str) -> Callable[[pl.DataFrame], pl.DataFrame] | None:
    """The frame step for `table`'s person columns (None: the table carries none, or nothing to do)."""
    columns = PERSON_COLUMNS.get(table, ())
    key = _key(config)
    if not columns or (key is None and table not in NORMALIZED_TABLES):
        return None

    names = NAME_COLUMNS.get(table, ())

    def prepare(frame: pl.DataFrame) -> pl.DataFrame:
        present = [c for c in columns if c in frame.columns]
        if key is None:
            return frame.with_columns(identity_key(pl.col(c)).alias(c) for c in present)
        return frame.with_columns(hide(pl.col(c), key).alias(c) for c in [*present, *names] if c in frame.columns)

    return prepare


def stamp(config: AispendConfig, table: str) -> str | None:
    """What a unit's rows depend on besides its bytes: `pseudonymized:<key fingerprint>` for person tables with
    the switch on (a fingerprint is an HMAC of a fixed text: it identifies the key, it does not reveal it)."""
    key = _key(config)
    if key is None or table not in PERSON_COLUMNS:
        return None
    return "pseudonymized:" + hmac.new(key, b"aispend key fingerprint", hashlib.sha256).hexdigest()[:12]


def scrubber(config: AispendConfig) -> Callable[[str], str] | None:
    """With the switch on, the function that takes names out of a quarantine message; else None."""
    if not config.privacy.pseudonymize_people:
        return None
    return scrub


def scrub(text: str) -> str:
    """Email-shaped words and quoted values replaced: where parsers and readers put the offending text."""
    return _QUOTED.sub("<value hidden>", _EMAIL.sub("<email hidden>", text))
