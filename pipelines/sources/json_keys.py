"""Finding a key written twice in one JSON object, without a DuckDB connection per file when none is.

`common.first_repeated_key` asks DuckDB (`json_keys` lists every occurrence of a key, where Polars and DuckDB's
decoders keep one silently): a connection and a join per call, more than all the rest of reading a small log
file. `first_repeated_key_fast` gives the same answer for every input, cheaper when no key repeats:
1. Polars marks the texts that may hold a wanted key twice in one of the objects looked at (the top-level
   object and the objects right under it). Each text is cut into tokens: strings (a key keeps its colon) and
   brackets. Escapes are blanked first (`\\"` is the only way a quote occurs inside a string), so every quote
   left opens or closes a string and a bracket inside a string is never taken for structure. A running sum of
   the brackets gives each key its depth and, with a count of the objects opened at that depth, its object.
   A text is marked when a wanted key token `"key":` occurs twice in one object at depth 1 or 2, or a key
   there is written with an escape (`\\u0041`) or blank before its colon (either could spell a wanted key).
   Keys deeper down are not counted: a Converse record writes `"output":` again inside `outputBodyJson`,
   which is no repeat. Texts whose brackets do not nest as one object each, and keys that could break the
   token test (holding a quote, a backslash or a control character), mark every text.
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

_ESCAPE = r"(?s)\\."                          # replaced by \x01: no quote is left inside a string
_TOKEN = r'"[^"]*"(?:\s*:)?|[{}\[\]]'      # a string (a key with its colon) or a bracket
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


def _shallow(paths: Collection[str]) -> bool:
    """The test counts keys at depth 1 and 2 only: the top-level object and the objects of its own keys."""
    return all(p == "$" or (p.startswith("$.") and _safe(p[2:]) and "." not in p[2:] and "[" not in p) for p in paths)


def may_repeat(texts: pl.Series, objects: dict[str, Collection[str]]) -> pl.Series:
    """True for each text that may hold a wanted key twice in one of `objects` (never false when one does)."""
    tokens = _tokens(tuple(sorted({k for keys in objects.values() for k in keys})))
    if tokens is None or not _shallow(objects):
        return pl.Series(texts.name, [True] * texts.len(), pl.Boolean)
    tok, depth, line = pl.col("tok"), pl.col("depth"), pl.col("line")
    opens = tok.is_in(["{", "["])
    step = opens.cast(pl.Int32) - tok.is_in(["}", "]"]).cast(pl.Int32)
    opened = {d: (opens & (depth == d)).cast(pl.Int32).cum_sum() for d in (1, 2)}
    key = tok.str.ends_with(":") & (depth <= 2)
    odd_key = tok.str.contains("\x01", literal=True) | ~tok.str.ends_with('":')
    twice = tok.is_in(list(tokens)) & pl.struct("object", "tok").is_duplicated()
    found = (
        pl.LazyFrame({"t": texts})
        .with_row_index("line")
        .select("line", pl.col("t").str.replace_all(_ESCAPE, "\x01").str.extract_all(_TOKEN).alias("tok"))
        .explode("tok", empty_as_null=True)
        .with_columns(step.cum_sum().alias("depth"), (line != line.shift(1)).fill_null(True).alias("first"))
        # The object a key is in: the how-manieth object opened at its depth (null below depth 2).
        .with_columns(pl.when(depth == 1).then(opened[1]).when(depth == 2).then(-opened[2]).alias("object"))
        .select(
            # Each text one object: it opens at depth 1 and is back at 0 once, at its end, never below.
            ((pl.col("first") & (depth != 1)).any() | (depth < 0).any() | (depth.last() != 0)
             | ((depth == 0).sum() != line.n_unique())).alias("odd"),
            line.filter(key & (odd_key | twice)).unique().implode().alias("lines"),
        )
        .collect()
    )
    if found["odd"][0]:
        return pl.Series(texts.name, [True] * texts.len(), pl.Boolean)
    flags = pl.Series(texts.name, [False] * texts.len(), pl.Boolean)
    return flags.scatter(found["lines"][0], True) if len(found["lines"][0]) else flags


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
    flags = may_repeat(texts, objects)
    if not flags.any() or not _any_repeat(texts.filter(flags), list(objects)):
        return None
    return first_repeated_key(texts, objects)
