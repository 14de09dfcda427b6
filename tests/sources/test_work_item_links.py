"""Every usage reader fills usage_events.work_item_id from where its logs name the work item a request served:
a span attribute (OTel), requestMetadata (Bedrock), a request tag or metadata key (LiteLLM), a column (usage CSV).
Each file is small and written here in the source's real shape; blank or absent names give NULL."""

from __future__ import annotations

import json

from pipelines.config import SourceConfig
from pipelines.sources import bedrock_logs, litellm, otel_genai, usage_csv


def _source(kind: str, **options) -> SourceConfig:
    return SourceConfig(name=kind, kind=kind, path="unused", options=options)


def _span(attributes: dict[str, str], start: str) -> dict:
    return {"traceId": "ab" * 16, "spanId": start[-16:], "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": start, "endTimeUnixNano": str(int(start) + 10**9),
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()]}


def test_otel_span_attribute(tmp_path):
    model = {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": "10"}
    otlp = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [
        _span({**model, "aispend.work_item": "ZD-4521"}, "1790000000000000000"),
        _span({**model, "aispend.work_item": "  "}, "1790000001000000000"),
        _span(model, "1790000002000000000"),
        _span({**model, "ticket": "PR-7"}, "1790000003000000000"),
    ]}]}]}
    flat = {"trace_id": "cd" * 16, "start_time": "2026-10-01T09:00:00Z", "end_time": "2026-10-01T09:00:01Z",
            "attributes": {**model, "aispend.work_item": "DATA-140"}}
    path = tmp_path / "spans.jsonl"
    path.write_text(json.dumps(otlp) + "\n" + json.dumps(flat) + "\n")
    got = otel_genai.read(str(path), _source("otel_genai"))["work_item_id"].to_list()
    assert got == ["ZD-4521", None, None, None, "DATA-140"]
    # the attribute is an option like the others
    renamed = otel_genai.read(str(path), _source("otel_genai", work_item_attribute="ticket"))
    assert renamed["work_item_id"].to_list() == [None, None, None, "PR-7", None]


def test_bedrock_request_metadata(tmp_path):
    record = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2026-10-01T09:00:00Z",
              "accountId": "111122223333", "identity": {"arn": "arn:aws:iam::111122223333:user/app"},
              "region": "us-east-1", "requestId": "r1", "operation": "Converse",
              "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
              "input": {"inputContentType": "application/json", "inputTokenCount": 10},
              "output": {"outputContentType": "application/json", "outputTokenCount": 5}}
    lines = [
        {**record, "requestMetadata": {"task": "contract_review", "work_item": "DOC-1"}},
        {**record, "requestId": "r2", "requestMetadata": {"task": "contract_review"}},
        {**record, "requestId": "r3"},
    ]
    path = tmp_path / "log.json"
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    assert bedrock_logs.read(str(path), _source("bedrock_invocation_logs"))["work_item_id"].to_list() == [
        "DOC-1", None, None]


def test_litellm_tag_then_metadata(tmp_path):
    base = {"call_type": "acompletion", "startTime": "2026-10-01 09:00:00", "endTime": "2026-10-01 09:00:01",
            "model": "gpt-4o-mini", "custom_llm_provider": "openai", "prompt_tokens": 100, "completion_tokens": 10,
            "status": "success"}
    rows = [
        # the tag wins over the metadata key
        {**base, "request_id": "a", "request_tags": ["task:draft", "work_item:ZD-1"],
         "metadata": {"spend_logs_metadata": {"work_item": "ZD-9"}}},
        # metadata only, double-encoded as LiteLLM sometimes writes it
        {**base, "request_id": "b", "request_tags": [],
         "metadata": json.dumps({"requester_metadata": {"work_item": "ZD-2"}})},
        {**base, "request_id": "c", "request_tags": ["task:draft"], "metadata": {}},
    ]
    path = tmp_path / "spend.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert litellm.read(str(path), _source("litellm_spend"))["work_item_id"].to_list() == ["ZD-1", "ZD-2", None]


def test_usage_csv_column(tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text("timestamp,provider,model,input_tokens,output_tokens,Work_Item_ID\n"
                    "2026-10-01T09:00:00Z,openai,gpt-4o,10,5,PR-12\n2026-10-01T09:01:00Z,openai,gpt-4o,10,5,\n")
    assert usage_csv.read(str(path), _source("usage_csv"))["work_item_id"].to_list() == ["PR-12", None]
