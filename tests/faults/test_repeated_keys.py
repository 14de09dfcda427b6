"""A key written twice in one record has no one value: the readers used to pick one silently (OTel attributes
pivoted with "last", Bedrock records decoded with the first). Each is refused naming the line and the key."""

from __future__ import annotations

import json

import pytest

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.sources import bedrock_logs, otel_genai
from tests.faults.kinds import BAD_DAY, FIXTURES

OTEL = SourceConfig(name="app", kind="otel_genai", path="unused")
BEDROCK = SourceConfig(name="br", kind="bedrock_invocation_logs", path="unused")


def _otlp(attributes: list[tuple[str, str]]) -> str:
    span = {"traceId": "ab", "spanId": "cd", "name": "chat", "startTimeUnixNano": "1793955600000000000",
            "endTimeUnixNano": "1793955601000000000",
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes]}
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]})


BASE = [("gen_ai.provider.name", "openai"), ("gen_ai.request.model", "gpt-4o-mini")]


def test_otlp_attribute_set_twice_on_a_span_is_refused():
    good = _otlp([*BASE, ("gen_ai.usage.input_tokens", "10")])
    bad = _otlp([*BASE, ("gen_ai.usage.input_tokens", "10"), ("gen_ai.usage.input_tokens", "9000")])
    with pytest.raises(SourceError) as caught:
        otel_genai.read("spans.jsonl", OTEL, data=f"{good}\n{bad}\n".encode())
    assert "line 2, column 'gen_ai.usage.input_tokens'" in caught.value.message and "twice" in caught.value.message


def test_an_attribute_set_on_a_span_and_its_resource_is_not_a_repeat():
    line = json.loads(_otlp([*BASE, ("aispend.team", "support")]))
    line["resourceSpans"][0]["resource"]["attributes"] = [{"key": "aispend.team", "value": {"stringValue": "x"}}]
    frame = otel_genai.read("spans.jsonl", OTEL, data=(json.dumps(line) + "\n").encode())
    assert frame["team"].to_list() == ["support"]  # the span's own value wins


def test_flat_span_attribute_written_twice_is_refused():
    body = FIXTURES["otel_genai"].body(FIXTURES["otel_genai"].rows(BAD_DAY)).decode().split("\n")
    body[1] = body[1].replace('"gen_ai.usage.input_tokens": "100"',
                              '"gen_ai.usage.input_tokens": "100", "gen_ai.usage.input_tokens": "5"')
    with pytest.raises(SourceError) as caught:
        otel_genai.read("spans.jsonl", OTEL, data="\n".join(body).encode())
    assert "line 2" in caught.value.message and "'gen_ai.usage.input_tokens' appears twice" in caught.value.message


@pytest.mark.parametrize(("old", "new", "key"), [
    ('"modelId": ', '"modelId": "amazon.nova-pro-v1:0", "modelId": ', "modelId"),
    ('"inputTokenCount": "300"', '"inputTokenCount": "300", "inputTokenCount": "3"', "input.inputTokenCount"),
])
def test_bedrock_field_written_twice_is_refused(old, new, key):
    lines = FIXTURES["bedrock_invocation_logs"].body(FIXTURES["bedrock_invocation_logs"].rows(BAD_DAY)).decode()
    first, second, *_ = lines.split("\n")
    data = (first + "\n" + second.replace(old, new, 1) + "\n").encode()
    with pytest.raises(SourceError) as caught:
        bedrock_logs.read("log.json", BEDROCK, data=data)
    assert f"line 2: field {key!r} appears twice" in caught.value.message


def test_bedrock_cloudwatch_message_with_a_repeated_field_is_refused():
    record = json.loads(FIXTURES["bedrock_invocation_logs"].body(FIXTURES["bedrock_invocation_logs"].rows(BAD_DAY))
                        .decode().split("\n")[0])
    text = json.dumps(record).replace('"requestId": ', '"requestId": "a", "requestId": ', 1)
    envelope = json.dumps({"events": [{"timestamp": "1793955600000", "message": json.dumps(record)},
                                      {"timestamp": "1793955600000", "message": text}]})
    with pytest.raises(SourceError) as caught:
        bedrock_logs.read("export.json", BEDROCK, data=envelope.encode())
    assert "event 2: field 'requestId' appears twice" in caught.value.message
