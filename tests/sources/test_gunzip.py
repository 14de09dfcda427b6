"""Gzipped files are inflated by ISA-L (pipelines/sources/common.py `read_bytes`): the same bytes zlib gives,
for one member or several and for every compression level; and a file zlib cannot read is refused with zlib's
own words, as before. The expected bytes are the text written here, not the reader's output."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest

from pipelines.errors import SourceError
from pipelines.sources.common import read_bytes


def _text(seed: int, lines: int) -> bytes:
    rng = random.Random(seed)
    return "".join(f'{{"n": {rng.randint(0, 10**9)}, "t": "{"é" * rng.randint(0, 5)}{rng.random()}"}}\n'
                   for _ in range(lines)).encode()


@pytest.mark.parametrize("level", [1, 6, 9])
def test_the_same_bytes_as_written_one_member_or_several(level):
    first, second = _text(level, 3000), _text(level + 10, 50)
    assert read_bytes("day.jsonl.gz", gzip.compress(first, compresslevel=level)) == first
    both = gzip.compress(first, compresslevel=level) + gzip.compress(second, compresslevel=level)  # `cat a.gz b.gz`
    assert read_bytes("day.jsonl.gz", both) == first + second
    assert read_bytes("empty.jsonl.gz", gzip.compress(b"")) == b""


def _zlib_says(data: bytes) -> str:
    try:
        gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        return str(exc)
    raise AssertionError("zlib read it")


@pytest.mark.parametrize("damage", ["truncated", "a corrupt block", "not gzip", "garbage after the end"])
def test_a_damaged_file_is_refused_with_zlibs_message(damage):
    good = gzip.compress(_text(1, 2000))
    data = {"truncated": good[:-9], "a corrupt block": good[:30] + b"\xff" * 8 + good[38:],
            "not gzip": b'{"n": 1}\n', "garbage after the end": good + b"\x00junk"}[damage]
    with pytest.raises(SourceError) as refused:
        read_bytes("day.jsonl.gz", data)
    assert str(refused.value) == f"day.jsonl.gz: unreadable gzip (truncated or corrupt): {_zlib_says(data)}"
