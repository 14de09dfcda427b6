"""The JSON helpers readers share: a long series is decoded in pieces (pipelines/sources/common.py), which must
give what one decode of the whole gives and still name the first bad text; the repeated-key test must find a
key written twice in any object it is asked about, and only there."""

from __future__ import annotations

import json

import polars as pl
import pytest

from pipelines.errors import SourceError
from pipelines.sources.common import DECODE_PIECE, decode_json, first_repeated_key

DTYPE = pl.Struct({"id": pl.String, "n": pl.String, "input": pl.Struct({"x": pl.String, "y": pl.String})})
COUNT = DECODE_PIECE * 3 + 17  # pieces, the last one short


def _texts() -> list[str]:
    """Records of several shapes: numbers and strings as text, a missing or null object, unicode escapes."""
    out = []
    for i in range(COUNT):
        record: dict = {"id": f"r{i}", "n": i if i % 3 else f"{i}.5", "body": {"input": {"x": "not this one"}}}
        if i % 5:
            record["input"] = {"x": f"\u00e9{i}", "y": None} if i % 2 else {"y": i * 1.5}
        elif i % 10 == 0:
            record["input"] = None
        out.append(json.dumps(record, ensure_ascii=bool(i % 4)))
    return out


def where(index: int) -> tuple[str, int]:
    return f"line {index + 1}", index + 1


def test_a_long_series_decoded_in_pieces_equals_one_decode():
    texts = pl.Series("text", _texts())
    decoded = decode_json(texts, DTYPE, "f.jsonl", where)
    assert decoded.name == "text" and decoded.len() == COUNT
    assert decoded.equals(texts.str.json_decode(DTYPE))  # one decode of the whole, as Polars gives it
    assert decoded[1] == {"id": "r1", "n": "1", "input": {"x": "\u00e91", "y": None}}
    assert decoded.struct.field("id").to_list() == [f"r{i}" for i in range(COUNT)]  # order kept across pieces


@pytest.mark.parametrize("bad", [0, DECODE_PIECE - 1, DECODE_PIECE, COUNT - 1])
def test_a_text_of_the_wrong_shape_in_any_piece_is_named(bad):
    texts = _texts()
    texts[bad] = json.dumps({"id": "r", "input": "text where an object belongs"})
    with pytest.raises(SourceError) as caught:
        decode_json(pl.Series(texts), DTYPE, "f.jsonl", where)
    assert caught.value.message.endswith(f"line {bad + 1}: field 'input' has the wrong type")
    texts[bad] = '{"id": "r", "n": '
    with pytest.raises(SourceError, match=rf"line {bad + 1} is not valid JSON"):
        decode_json(pl.Series(texts), DTYPE, "f.jsonl", where)


OBJECTS = {"$": ["id", "n", "input"], "$.input": ["x", "y"]}


def test_no_repeated_key_among_many_texts():
    assert first_repeated_key(pl.Series(_texts()), OBJECTS) is None  # "input" also inside "body": no repeat


@pytest.mark.parametrize(("text", "key"), [
    ('{"id": "a", "n": "1", "id": "b"}', "id"),
    ('{"id": "a", "input": {"x": "1", "y": "2", "x": "3"}}', "input.x"),
    ('{"input": {"y": 1, "y": 1}, "id": "a", "id": "a"}', "id"),  # the same value twice is still refused
])
def test_a_repeated_key_in_a_later_text_is_found(text, key):
    texts = _texts()
    texts[COUNT - 3] = text
    assert first_repeated_key(pl.Series(texts), OBJECTS) == (COUNT - 3, key)


def test_a_key_repeated_where_nothing_is_read_is_no_repeat():
    texts = _texts()
    texts[7] = '{"id": "a", "body": {"k": 1, "k": 2}, "other": 1, "other": 2}'
    assert first_repeated_key(pl.Series(texts), OBJECTS) is None
