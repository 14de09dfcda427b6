"""Finding a key written twice in one JSON object, without a DuckDB connection per file when none is.

`common.first_repeated_key` asks DuckDB (`json_keys` lists every occurrence of a key, where Polars and DuckDB's
decoders keep one silently): a connection and a join per call, more than all the rest of reading a small log
file. `first_repeated_key_fast` gives the same answer for every input, cheaper when no key repeats:
1. Polars marks the texts that may hold a wanted key twice anywhere: a wanted key token `"key":` found twice
   (Aho-Corasick, one pass), a key token holding an escape that could spell a wanted key (`\\u0041`, `\\/`), or
   blank between a key and its colon. Inside a JSON string a quote is always escaped, so `"key":` written
   literally is always a key token (keys that could break this, holding a quote, a backslash, a control
   character or starting with structure, mark every text).
2. Those texts go to one DuckDB query on a connection kept per thread: does any object at the wanted paths
   list a key twice (a superset of the wanted keys).
3. Only if one does, `common.first_repeated_key` runs as before, over every text, and names the first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection
from functools import lru_cache

import polars as pl

from pipelines.sources.common import first_repeated_key

_ESCAPED_KEY = r'\\[u/][^"\\]*(?:\\.[^"\\]*)*"\s*:'   # an escape inside a key token (its tail up to the colon)
_SPACED_KEY = r'"\s+:'
_FIRST_UNSAFE = re.compile(r'[\x00-\x20,:{}\[\]]')  # after a string's closing quote: structure or blank
# Paths written into the text, not bound: a bound Python list costs DuckDB a dozen failed imports per query.
_ANY_REPEAT = (
    "SELECT 1 FROM texts WHERE EXISTS (SELECT 1 FROM (SELECT unnest(json_keys(t, [{paths}])) AS ks) "
    "WHERE len(ks) <> len(list_distinct(ks))) LIMIT 1"
)
_local = threading.local()


def _safe(key: str) -> bool:
    """A key whose token `"key":` can only be written so (or with an escape the test catches)."""
    return bool(key) and not re.search(r'["\\\x00-\x1f]', key) and not _FIRST_UNSAFE.match(key)


@lru_cache(maxsize=64)
def _tokens(keys: tuple[str, ...]) -> tuple[str, ...] | None:
    return tuple(f'"{k}":' for k in keys) if all(_safe(k) for k in keys) else None


def may_repeat(texts: pl.Series, keys: Collection[str]) -> pl.Series:
    """True for each text that may hold one of `keys` twice (never false when one of its objects does)."""
    tokens = _tokens(tuple(sorted(set(keys))))
    if tokens is None:
        return pl.Series(texts.name, [True] * texts.len(), pl.Boolean)
    found = pl.col("t").str.extract_many(list(tokens))
    return pl.DataFrame({"t": texts}).select(
        (found.list.len() != found.list.n_unique()) | pl.col("t").str.contains(_ESCAPED_KEY)
        | pl.col("t").str.contains(_SPACED_KEY)
    ).to_series()


def _connection():
    con = getattr(_local, "con", None)
    if con is None:
        import duckdb

        con = duckdb.connect()
        con.execute("SET threads = 1")  # a few hundred short texts: one thread answers sooner
        _local.con = con
    return con


@lru_cache(maxsize=64)
def _any_repeat_sql(paths: tuple[str, ...]) -> str:
    return _ANY_REPEAT.format(paths=", ".join("'" + p.replace("'", "''") + "'" for p in paths))


def _any_repeat(texts: pl.Series, paths: list[str]) -> bool:
    """Whether any object at `paths` of any text lists a key twice (any key: the exact check names it)."""
    con = _connection()
    con.register("texts", pl.DataFrame({"t": texts}))
    try:
        return con.execute(_any_repeat_sql(tuple(paths))).fetchone() is not None
    finally:
        con.unregister("texts")


def first_repeated_key_fast(texts: pl.Series, objects: dict[str, Collection[str]]) -> tuple[int, str] | None:
    """`common.first_repeated_key(texts, objects)`, asked only when a cheaper test finds a repeat."""
    if texts.len() == 0:
        return None
    flags = may_repeat(texts, [k for keys in objects.values() for k in keys])
    if not flags.any() or not _any_repeat(texts.filter(flags), list(objects)):
        return None
    return first_repeated_key(texts, objects)
