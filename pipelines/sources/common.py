"""Helpers every reader shares: opening (maybe gzipped) files, tolerant timestamps, finding the first bad row,
decoding JSON objects without quoting them.

Readers refuse a file whole, so each check here reports the FIRST offending row (1-based, data rows only):
that is what a person opens the file at to fix it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import threading
import zlib
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
from isal import igzip

from pipelines.errors import SourceError

# Active ISO 4217 codes plus a few recently withdrawn ones that still appear in restated historic bills
# (HRK, SLL, ZWL, CUC, ANG). Test (XTS) and "no currency" (XXX) codes are left out on purpose.
ISO_4217: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE
    SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED
    VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
    """.split()
)

# Spellings of "no value" seen in real exports (the FOCUS sample writes NULL, the spec examples write null).
# Not `NaN`: in a number column it is a value that is not a number, refused as such (pipelines/sources/bounds.py),
# never read as "no value" and summed as 0.
NULL_STRINGS = ["", "NULL", "null", "Null", "N/A"]


def read_bytes(path: str, data: bytes | None = None) -> bytes:
    """The file's bytes (`data` when ingest already fetched them, e.g. from S3), gunzipped when the name ends
    in .gz; a truncated or corrupt gzip is a SourceError."""
    if data is not None:
        raw = data
    else:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise SourceError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if not path.endswith(".gz"):
        return raw
    try:
        # ISA-L inflates a day's OTel file in 0.049 s where zlib takes 0.077 (bench/README.md, "After: gunzip
        # by ISA-L"); the same bytes. Only when it refuses does zlib read it again, for the message it gives.
        return igzip.decompress(raw)
    except Exception:  # noqa: BLE001 - zlib below says what is wrong, as it always has
        pass
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise SourceError(path, f"unreadable gzip (truncated or corrupt): {exc}") from exc


def blank_to_null(col: pl.Expr) -> pl.Expr:
    """Trimmed text, with the null spellings of NULL_STRINGS turned into real nulls."""
    text = col.str.strip_chars()
    return pl.when(~text.is_in(NULL_STRINGS)).then(text)


def parse_utc(col: pl.Expr) -> pl.Expr:
    """Text timestamps in the shapes exports use, as naive UTC: `2024-09-01 00:00:00`, ISO `...Z`, `+02:00`
    offsets, Postgres' short `+00` offsets, no seconds (`2024-01-01T00:00Z`, Azure FOCUS 1.0), fractional
    seconds, or a bare date. Unparseable text becomes null (callers check for that). Text without an offset is
    taken as UTC, which is what FOCUS prescribes.

    Text already in the parsed shape (`2024-09-01 00:00:00.5+02:00`), or in it but for Postgres' short offset
    (`+00`, given its `:00`), ISO's `Z` or no offset, skips the normalizing: the rewrites below make those texts
    what the cheaper branches make them, and their seven regex passes cost ten times the parse. Polars evaluates
    `otherwise` only on the rows the conditions leave."""
    text = col.str.strip_chars()
    ready = (
        pl.when(text.str.contains(_PARSED_SHAPE)).then(text)
        .when(text.str.contains(_SHORT_OFFSET_SHAPE)).then(text + ":00")
        .when(text.str.contains(_ISO_Z_SHAPE)).then(text.str.replace("T", " ", literal=True).str.head(-1) + "+00:00")
        .when(text.str.contains(_NAIVE_SHAPE)).then(text + "+00:00")
        .otherwise(_normalized(text))
    )
    return (
        ready.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", strict=False, time_unit="us")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )


_STAMP = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d\d"
_PARSED_SHAPE = _STAMP + r":\d\d$"
_SHORT_OFFSET_SHAPE = _STAMP + "$"
# The two shapes most logs write, made parsed by a cut and an append instead of the rewrites: ISO in UTC with `Z`
# (JSON logs, APIs) and no offset at all (CSV exports). The rewrites took 4 us a text, the cut 0.3 us.
_ISO_Z_SHAPE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$"
_NAIVE_SHAPE = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?$"


def _normalized(text: pl.Expr) -> pl.Expr:
    """Trimmed text in the one shape `parse_utc` parses: a space between date and time, seconds, an offset."""
    text = text.str.replace(r"^(\d{4}-\d{2}-\d{2})$", "${1} 00:00:00")
    text = text.str.replace(r"^(\d{4}-\d{2}-\d{2})[Tt ]", "${1} ").str.replace(r"[Zz]$", "+00:00")
    text = text.str.replace(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2})([+-]|$)", "${1}:00${2}")
    text = text.str.replace(r"(:\d{2}(?:\.\d+)?)([+-]\d\d)$", "${1}${2}:00")
    text = text.str.replace(r"\s+(UTC|GMT)$", "+00:00").str.replace(r"\s+([+-]\d\d:?\d\d)$", "${1}")
    return pl.when(text.str.contains(r"[+-]\d\d:?\d\d$")).then(text).otherwise(text + "+00:00")


def to_utc(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A timestamp column of any input type (text, tz-aware or naive datetime, date) as naive UTC us."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return col.cast(pl.Datetime("us"))
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us"))
    return parse_utc(col.cast(pl.String))


def first_row(frame: pl.DataFrame, bad: pl.Expr) -> int | None:
    """1-based index of the first row where `bad` is true, or None."""
    hits = frame.select(bad.fill_null(False).arg_true().first()).item()
    return None if hits is None else int(hits) + 1


def check(frame: pl.DataFrame, bad: pl.Expr, path: str, reason: str, column: str | None = None) -> None:
    """Raise a SourceError naming the first row where `bad` holds; `reason` may use {value} for that cell."""
    row = first_row(frame, bad)
    if row is None:
        return
    value = frame[column][row - 1] if column and column in frame.columns else None
    raise SourceError(path, reason.format(value=_show(value)), row=row, column=column)


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def utf8(path: str, raw: bytes) -> str:
    """The bytes as text (a UTF-8 BOM dropped); invalid UTF-8 is refused naming the line and byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SourceError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8",
                          row=line, unit="line") from None


# Newlines are looked for this much text at a time: the comparison's mask takes a byte per byte it looks at.
_SCAN_BYTES = 16 << 20


def per_file(frame: pl.DataFrame, file: pl.Series, files: int) -> list[pl.DataFrame]:
    """`frame` cut into one frame per file read together (`read_many`): `file` is each row's file index, 0 to
    `files` - 1, with the rows in file order; a file without rows gets an empty frame."""
    rows = dict(file.value_counts().iter_rows())
    out, start = [], 0
    for index in range(files):
        out.append(frame.slice(start, rows.get(index, 0)))
        start += rows.get(index, 0)
    return out


def text_lines(path: str, raw: bytes) -> pl.Series:
    """The bytes' lines as one string column, each with its line break (a UTF-8 BOM dropped); invalid UTF-8 is
    refused as `utf8` refuses it. There are as many lines as the decoded text split at each newline gives.

    The lines are cut where the newlines are, in the bytes as read: no Python text of the whole file and no
    list of its lines (each a copy of the text). A 49 MB day of OTel spans took 14-24 ms so, against 70-88 ms
    decoded and split in Python (bench/README.md, "After: lines cut in the bytes").
    """
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    view = np.frombuffer(raw, dtype=np.uint8)
    breaks = [np.flatnonzero(view[at:at + _SCAN_BYTES] == 10) + (at + 1) for at in range(start, len(raw), _SCAN_BYTES)]
    offsets = np.concatenate([[start], *breaks, [len(raw)]]).astype(np.int64)
    lines = pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(raw))
    try:
        lines.validate(full=True)  # UTF-8 is checked here, once: Polars takes Arrow's strings as valid
    except pa.ArrowInvalid:
        utf8(path, raw)  # names the line and byte
        raise SourceError(path, "not UTF-8 text; save the file as UTF-8") from None
    return pl.Series("line", lines)


def csv_header(path: str, text: str) -> list[str]:
    """The header row as written (Polars renames a repeated header silently, so it is read here)."""
    try:
        return next(csv.reader(io.StringIO(text[: 1 << 20])), [])  # a header is far shorter than 1 MB
    except csv.Error as exc:
        raise SourceError(path, f"unreadable CSV header: {exc}", row=0) from None


def refuse_repeated_columns(path: str, header: list[str], canonical=lambda name: name.strip(),
                            allowed: Collection[str] = ()) -> None:
    """Two columns that mean the same (the same name, or two spellings a reader matches as one) would leave one
    of them silently unread: refuse the file naming the column. `allowed` names columns an export repeats on
    purpose (a Jira export repeats a multi-valued field's header)."""
    seen: dict[str, str] = {}
    for name in header:
        key = canonical(name)
        if key is None or name.strip() in allowed:
            continue
        if key in seen:
            twice = name.strip() if seen[key].strip() == name.strip() else f"{seen[key].strip()} and {name.strip()}"
            raise SourceError(path, f"the header holds column {twice} twice: remove one (which one counts is "
                                    "not guessed)", column=name.strip())
        seen[key] = name


def _csv_fault(path: str, text: str) -> SourceError:
    """Where a CSV Polars refused goes wrong, found with the csv module (error path only): the first row whose
    field count differs from the header's, or a broken quote. Values are never quoted back (they may be prompts)."""
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        width = len(next(reader))
        for number, record in enumerate(reader, start=1):
            if record and len(record) != width:
                return SourceError(path, f"{len(record)} fields where the header has {width}", row=number)
    except csv.Error as exc:
        return SourceError(path, f"broken quoting ({exc})", row=max(reader.line_num - 1, 1), unit="row")
    return SourceError(path, "unreadable CSV (a row with the wrong number of fields, or a broken quote)")


def read_csv_text(path: str, raw: bytes, *, null_values: list[str] | None = NULL_STRINGS, canonical=None,
                  allowed_repeats: Collection[str] = (), columns: list[str] | None = None,
                  text: str | None = None) -> pl.DataFrame:
    """A CSV file's bytes (BOM tolerated, not gzipped) as all-text columns, or a one-line SourceError: invalid
    UTF-8 (line and byte), a repeated column (`canonical` says which spellings are one column), a row with the
    wrong number of fields or a broken quote (the row). `columns` reads only those (header names as written);
    `text` is `utf8(path, raw)` when the caller has it already (decoding a day's spend log takes 10 ms)."""
    text = utf8(path, raw) if text is None else text
    if not text or text.isspace():
        raise SourceError(path, "empty file (expected a header row)")
    refuse_repeated_columns(path, csv_header(path, text), canonical or (lambda name: name.strip()), allowed_repeats)
    try:
        return pl.read_csv(raw.removeprefix(b"\xef\xbb\xbf"), infer_schema=False, null_values=null_values,
                           missing_utf8_is_empty_string=False, columns=columns)
    except pl.exceptions.PolarsError:
        raise _csv_fault(path, text) from None


def read_table(
    path: str,
    data: bytes | None,
    what: str,
    *,
    parquet: bool = True,
    null_values: list[str] | None = NULL_STRINGS,
    canonical=None,
) -> pl.DataFrame:
    """A CSV (optionally .gz, BOM tolerated) or Parquet file as all-text columns (Parquet keeps its types).

    Every value stays text so the reader can validate and report the first bad row itself; `what` names the
    source kind in the error for an unsupported file; `canonical` maps a header to the column a reader reads it
    as (case-insensitive readers), so two headers it would read as one are refused.
    """
    name = path.lower()
    if parquet and name.endswith(".parquet"):
        try:
            frame = pl.read_parquet(io.BytesIO(data) if data is not None else path)
        except Exception as exc:  # noqa: BLE001 - any Parquet failure means the file is unusable
            raise SourceError(path, f"unreadable Parquet: {str(exc).splitlines()[0] if str(exc) else exc}") from exc
        refuse_repeated_columns(path, frame.columns, canonical or (lambda n: n.strip()))
        return frame
    if name.endswith(".csv") or name.endswith(".csv.gz"):
        return read_csv_text(path, read_bytes(path, data), null_values=null_values, canonical=canonical)
    kinds = ".csv, .csv.gz or .parquet" if parquet else ".csv or .csv.gz"
    raise SourceError(path, f"unsupported file type for {what} (expected {kinds})")


# Texts decoded together: Polars' struct decode of one long series costs about twice as much a text as of short
# ones, so a long series is decoded in pieces of this many, on every core (bench/README.md, "After: JSON
# decoded in pieces").
DECODE_PIECE = 512


def json_decoded(texts: pl.Series, dtype: pl.Struct) -> pl.Series:
    """`texts.str.json_decode(dtype)`, a long series in pieces of DECODE_PIECE on every core (the same result);
    Polars' error when a text does not decode."""
    if texts.len() <= DECODE_PIECE:
        return texts.str.json_decode(dtype)
    frame = texts.to_frame("t")
    pieces = [frame.slice(start, DECODE_PIECE).lazy() for start in range(0, frame.height, DECODE_PIECE)]
    return pl.concat(pieces).select(pl.col("t").str.json_decode(dtype)).collect()["t"].alias(texts.name).rechunk()


def decode_json(texts: pl.Series, dtype: pl.Struct, path: str, where) -> pl.Series:
    """Decode every JSON object of `texts` with a struct schema; only when that fails, find the first bad one
    by bisection and name its field. `where(index)` gives (label for the message, row number).

    Readers of logs that hold prompts and code (Bedrock, coding agents) decode with a schema that lacks those
    fields, so the decoded frame never holds them. Polars' own message is never shown: it quotes the text.
    """
    if texts.len() and not texts.str.starts_with("{").all():
        index = int((~texts.str.starts_with("{")).arg_true()[0])
        label, pos = where(index)
        raise SourceError(path, f"{label} is not a JSON object", row=pos)
    try:
        return json_decoded(texts, dtype)
    except pl.exceptions.PolarsError:
        pass
    lo, hi = 0, texts.len()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _json_fails(texts[lo:mid], dtype):
            hi = mid
        else:
            lo = mid
    label, pos = where(lo)
    one = texts[lo : lo + 1]
    if one.str.json_path_match("$").is_null().all():
        raise SourceError(path, f"{label} is not valid JSON", row=pos)
    for field in dtype.fields:
        if _json_fails(one, pl.Struct([field])):
            raise SourceError(path, f"{label}: field {field.name!r} has the wrong type", row=pos, column=field.name)
    raise SourceError(path, f"{label} could not be decoded", row=pos)


def _json_fails(texts: pl.Series, dtype: pl.DataType) -> bool:
    try:
        texts.str.json_decode(dtype)
    except pl.exceptions.PolarsError:
        return True
    return False


# Paths written into the text, not bound: a bound Python list costs DuckDB a dozen failed imports per query.
_KEY_LISTS = "SELECT json_keys(t, [{paths}]) AS ks FROM texts"
_FIRST_REPEAT = (
    "WITH found AS (SELECT i, p, unnest(json_keys(t, p)) AS k FROM texts, (SELECT DISTINCT p FROM wanted)) "
    "SELECT i, p, k FROM found JOIN wanted USING (p, k) GROUP BY i, p, k HAVING count(*) > 1 "
    "ORDER BY i, p, k LIMIT 1"
)
_local = threading.local()
_side: tuple[int, ThreadPoolExecutor] | None = None


def on_the_side(fn: Callable, *args) -> Future:
    """`fn(*args)` on this process's one helper thread while the caller goes on: for native work (a DuckDB
    query, a Polars decode) that lets go of the GIL, so a second core works too. Made anew in a forked process,
    whose copy of a pool would wait for a thread that was not copied."""
    global _side
    if _side is None or _side[0] != os.getpid():
        _side = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="aispend-side"))
    return _side[1].submit(fn, *args)


def json_connection():
    """One in-memory DuckDB connection per thread, kept: opening one costs more than checking a log file."""
    con = getattr(_local, "con", None)
    if con is None:
        import duckdb

        con = duckdb.connect()
        con.execute("SET threads = 1")
        _local.con = con
    return con


@lru_cache(maxsize=64)
def _key_lists_sql(paths: tuple[str, ...]) -> str:
    return _KEY_LISTS.format(paths=", ".join("'" + p.replace("'", "''") + "'" for p in paths))


def first_repeated_key(texts: pl.Series, objects: dict[str, Collection[str]]) -> tuple[int, str] | None:
    """The first JSON text (0-based) holding a key twice in one of `objects` (a JSON path -> the keys a reader
    reads there), and that key as `path.key`. A repeated key is decoded as one of its values, silently (Polars
    and DuckDB both take the first); DuckDB's `json_keys` still lists every occurrence, so it finds them.

    DuckDB first lists the keys of every object at those paths, and Polars asks whether any list holds a key
    twice (the texts almost never do; Polars' `n_unique` of short lists costs less than DuckDB's
    `list_distinct`, bench/README.md, "After: JSON decoded in pieces"). Only then does the join name the first
    wanted key. Keys deeper down are not looked at: a Bedrock Converse record writes `"output":` again inside
    `outputBodyJson`, which is no repeat."""
    if texts.len() == 0:
        return None
    con = json_connection()
    con.register("texts", pl.DataFrame({"t": texts}).with_row_index("i"))
    try:
        lists = con.execute(_key_lists_sql(tuple(objects))).pl()["ks"]
        if not lists.list.eval(pl.element().list.len() - pl.element().list.n_unique()).list.max().max():
            return None
        wanted = [(path, key) for path, keys in objects.items() for key in keys]
        con.register("wanted", pl.DataFrame(wanted, schema=["p", "k"], orient="row"))
        try:
            hit = con.execute(_FIRST_REPEAT).fetchone()
        finally:
            con.unregister("wanted")
    finally:
        con.unregister("texts")
    if hit is None:
        return None
    index, path, key = hit
    return int(index), key if path == "$" else f"{path.removeprefix('$.')}.{key}"


_ARRAY_ITEMS = "SELECT unnest(json_extract(?::JSON, '$[*]'))::VARCHAR AS text"


def array_items(body: str) -> pl.Series:
    """Each element of a JSON array as its own JSON text, repeated keys kept (DuckDB writes them back as JSON;
    Polars' text of a nested value loses escaped backslashes, see `nested_as_written`). Raises duckdb.Error,
    whose message quotes the input, on anything but a JSON array: never show it."""
    return json_connection().execute(_ARRAY_ITEMS, [body]).pl()["text"].str.strip_chars()


# The escapes Polars writes back wrong in a nested value read as text: an escaped backslash (also as \u005c)
# and control characters (\t, \b, \f, \u0000-\u001f). \n, \r, \" and \/ come back right.
MISWRITTEN = r"\\(?:[\\tbf]|u00[01]|u005[cC])"


def nested_as_written(decoded: pl.DataFrame, texts: pl.Series) -> pl.DataFrame:
    """`decoded` (one row per JSON object of `texts`, its fields read as text) with each nested object or list
    taken again from the text as JSON where Polars would have written it wrong: it writes an escaped backslash
    as a bare one ("a\\\\b" comes back "a\\b") and control characters raw, which the next decode reads as
    another value (a backspace for "\\\\b") or refuses. `json_path_match` writes them as JSON."""
    if texts.len() != decoded.height:
        raise ValueError(f"{texts.len()} JSON texts for {decoded.height} decoded rows")
    rows = texts.str.contains(MISWRITTEN).fill_null(False).arg_true()
    if rows.len() == 0:
        return decoded
    held = texts.gather(rows)
    for name in decoded.columns:
        values = decoded[name].gather(rows)
        nested = values.str.contains(r"^[\[{]").fill_null(False)
        if not nested.any():
            continue
        again = held.str.json_path_match(f"$[{json.dumps(name)}]")
        fixed = pl.select(pl.when(nested).then(again).otherwise(values)).to_series()
        decoded = decoded.with_columns(decoded[name].scatter(rows, fixed))
    return decoded


class _Pairs(dict):
    """A decoded JSON object that remembers the first key it was given twice."""

    repeated: str | None = None


def _pairs(pairs: list[tuple[str, object]]) -> _Pairs:
    out = _Pairs()
    for key, value in pairs:
        if key in out and out.repeated is None:
            out.repeated = key
        out[key] = value
    return out


def _first_repeat(value: object, row: int | None = None, prefix: str = "") -> tuple[int | None, str] | None:
    """(the 1-based position in the outermost list, dotted key) of the first key written twice, or None."""
    if isinstance(value, list):
        for i, item in enumerate(value, start=1):
            found = _first_repeat(item, i if row is None else row, prefix)
            if found:
                return found
    elif isinstance(value, dict):
        if getattr(value, "repeated", None) is not None:
            return row, prefix + value.repeated
        for key, item in value.items():
            found = _first_repeat(item, row, f"{prefix}{key}.")
            if found:
                return found
    return None


def refuse_repeated_keys(path: str, text: str) -> None:
    """Refuse a JSON document (an export of at most a few thousand records, not events) holding a key twice in
    one object: a parser keeps one of the values silently (Polars the first, Python the last), so which counts
    would be guessed. Named by the record's position in its list (the row) and the key's dotted path."""
    try:
        doc = json.loads(text, object_pairs_hook=_pairs)
    except ValueError:
        return  # not JSON: the reader's own parse says so
    found = _first_repeat(doc)
    if found is not None:
        row, key = found
        raise SourceError(path, "appears twice in one object (which value counts is not guessed)", row=row,
                          column=key)
