"""A file's lines cut in its bytes (pipelines/sources/common.py `text_lines`): as many lines, in the same order
and with the same text as Python's own decode and split give, for every edge a log file has (no final newline,
CRLF, a BOM, blank lines, multi-byte characters, a newline on a scan boundary); invalid UTF-8 is refused naming
its line. The expected lines come from `bytes.decode` and `str.split`, not from the code under test."""

from __future__ import annotations

import random

import pytest

from pipelines.errors import SourceError
from pipelines.sources import common
from pipelines.sources.common import text_lines


def _expected(raw: bytes) -> list[str]:
    return raw.decode("utf-8-sig").split("\n")


def _cut(raw: bytes) -> list[str]:
    """The lines as given, each with its line break removed (the break is the only difference allowed)."""
    found = text_lines("day.jsonl", raw).to_list()
    assert all(line.endswith("\n") for line in found[:-1]) and not found[-1].endswith("\n")
    return [line.removesuffix("\n") for line in found]


@pytest.mark.parametrize("raw", [
    b"", b"\n", b"\n\n", b"a", b"a\n", b'{"x": 1}\n{"x": 2}', b"a\r\nb\r\n\r\n", b"\xef\xbb\xbfx\ny\n",
    b"\xef\xbb\xbf", "é\nü €\n\n  z  ".encode(), b"\xef\xbb\xbf\xef\xbb\xbfx",
])
def test_the_lines_python_gives(raw):
    assert _cut(raw) == _expected(raw)


def test_lines_across_scan_boundaries(monkeypatch):
    monkeypatch.setattr(common, "_SCAN_BYTES", 7)  # a newline falls on, before and after every boundary
    rng = random.Random(5)
    for _ in range(200):
        raw = "".join(rng.choice(["a", "é", "\n", "\r", " ", "{}"]) for _ in range(rng.randint(0, 60))).encode()
        raw = (b"\xef\xbb\xbf" if rng.random() < 0.3 else b"") + raw
        assert _cut(raw) == _expected(raw)


def test_invalid_utf8_is_refused_naming_its_line():
    with pytest.raises(SourceError) as caught:
        text_lines("day.jsonl", b'{"a": 1}\n{"b": 2}\n{"c": "\xff"}\n')
    assert caught.value.row == 3 and "not UTF-8" in caught.value.message
