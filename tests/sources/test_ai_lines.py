"""AI-line recognition from SKU and meter names: every expectation below is written out by hand."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.schemas import COST_LINES, conform
from pipelines.sources.ai_lines import with_ai_columns

# (line, x_ai_category, x_model, x_token_type)
CASES = [
    (dict(ServiceName="Cognitive Services", SkuMeter="gpt 4o 0513 Input global Tokens"), "model_usage", "gpt-4o-2024-05-13", "input"),
    (dict(ServiceName="Cognitive Services", SkuMeter="gpt 4o 1120 cached Inp glbl"), "model_usage", "gpt-4o", "cache_read"),
    (dict(ServiceName="Azure OpenAI", SkuMeter="gpt-4.1-mini Outp Glbl Tokens"), "model_usage", "gpt-4.1-mini", "output"),
    (dict(ServiceName="Foundry Models", SkuMeter="gpt 4o mini 0718 Inp regnl Tokens"), "model_usage", "gpt-4o-mini", "input"),
    (dict(ServiceName="Cognitive Services", SkuMeter="o1 1217 Outp glbl Tokens"), "model_usage", "o1", "output"),
    # a snapshot code no listed id has: the model stays unnamed rather than priced as another snapshot
    (dict(ServiceName="Cognitive Services", SkuMeter="gpt 4o 0999 Inp glbl Tokens"), "model_usage", None, "input"),
    (dict(ServiceName="Cognitive Services", SkuMeter="Provisioned Managed Global PTU"), "provisioned_throughput", None, None),
    (dict(ServiceName="Cognitive Services", SkuMeter="S1 Transactions"), "ai_service", None, None),
    (dict(ServiceName="Vertex AI", ChargeDescription="Gemini 2.5 Flash GA Text Input - Predictions"), "model_usage", "gemini-2.5-flash", "input"),
    (dict(ServiceName="Gemini API", ChargeDescription="Gemini 2.0 Flash Lite Text Output - Predictions"), "model_usage", "gemini-2.0-flash-lite", "output"),
    (dict(ServiceName="Vertex AI", ChargeDescription="Gemini 2.5 Flash Cached Text Input - Predictions"), "model_usage", "gemini-2.5-flash", "cache_read"),
    (dict(ServiceName="Vertex AI", ChargeDescription="Vertex AI Provisioned Throughput GSU"), "provisioned_throughput", None, None),
    (dict(ServiceName="Compute Engine", ChargeDescription="Nvidia Tesla A100 GPU running in Americas"), "ai_compute", None, None),
    (dict(ServiceName="Compute Engine", ChargeDescription="TPU v5e pod running in Americas"), "ai_compute", None, None),
    (dict(ServiceName="Compute Engine", ChargeDescription="N2 Instance Core running in Americas"), None, None, None),
    (dict(ServiceName="Amazon Elastic Compute Cloud", ServiceCategory="Compute", SkuId="BoxUsage:g5.12xlarge"), "ai_compute", None, None),
    (dict(ServiceName="Amazon Elastic Compute Cloud", SkuMeter="BoxUsage:p5.48xlarge"), "ai_compute", None, None),
    (dict(ServiceName="Amazon Elastic Compute Cloud", SkuMeter="USW2-BoxUsage:trn1.32xlarge"), "ai_compute", None, None),
    (dict(ServiceName="Amazon Elastic Compute Cloud", SkuMeter="USE1-SpotUsage:inf2.xlarge"), "ai_compute", None, None),
    (dict(ServiceName="Amazon Elastic Compute Cloud", SkuMeter="BoxUsage:m6g.large"), None, None, None),
    (dict(ServiceName="Amazon Elastic Compute Cloud", SkuMeter="BoxUsage:c7g.xlarge"), None, None, None),
    (dict(ServiceName="Amazon SageMaker", SkuMeter="USE1-Host:ml.g5.xlarge"), "ai_compute", None, None),
    (dict(ServiceName="Virtual Machines", SkuMeter="NC6s v3"), "ai_compute", None, None),
    (dict(ServiceName="Virtual Machines", ResourceType="Standard_ND96asr_v4"), "ai_compute", None, None),
    (dict(ServiceName="Virtual Machines", SkuMeter="B1s"), None, None, None),
    (dict(ServiceName="Virtual Machines", SkuMeter="D2 v3/D2s v3"), None, None, None),
    (dict(ServiceName="Compute", ChargeDescription="Compute - GPU - A10", ProviderName="Oracle"), "ai_compute", None, None),
    (dict(ServiceName="Amazon Bedrock", SkuMeter="USE1-Claude4.6Sonnet-cache-read-input-token-count"), "model_usage", None, "cache_read"),
    (dict(ServiceName="Amazon Bedrock", SkuMeter="USE1-Claude4.6Sonnet-cache-write-input-token-count"), "model_usage", None, "cache_write"),
    (dict(ServiceName="Amazon Bedrock", SkuMeter="USE1-Claude4.6Sonnet-output-tokens"), "model_usage", None, "output"),
    (dict(ServiceName="Amazon DynamoDB", ChargeDescription="provisioned throughput capacity"), None, None, None),
    (dict(ServiceName="Amazon Simple Storage Service", SkuMeter="TimedStorage-ByteHrs"), None, None, None),
    (dict(ServiceName="Whatever", ServiceCategory="AI and Machine Learning"), "ai_service", None, None),
    (dict(ServiceName="Whatever", ServiceSubcategory="Generative AI"), "ai_service", None, None),
    (dict(ServiceName="Amazon S3", x_model="gpt-4o", x_token_type="input"), "model_usage", "gpt-4o", "input"),
    # seats: an AI tool sold per user (a tool's name and a plan word or per-user unit); its usage is not a seat
    (dict(ProviderName="GitHub", ServiceName="GitHub Copilot", SkuId="Copilot Business"), "seat", None, None),
    (dict(ProviderName="OpenAI", ServiceName="ChatGPT", ChargeDescription="ChatGPT Team seats"), "seat", None, None),
    (dict(ServiceName="Cursor", SkuId="cursor-seat", PricingUnit="User-Month"), "seat", None, None),
    (dict(ServiceName="Anthropic", ChargeDescription="Claude Max subscription"), "seat", None, None),
    (dict(ServiceName="GitHub Copilot", SkuId="Copilot Premium Request", ServiceCategory="AI and Machine Learning"),
     "ai_service", None, None),
    (dict(ServiceName="Anthropic", SkuMeter="Claude Pro input tokens"), "model_usage", None, "input"),
]


def _frame(rows: list[dict]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows, infer_schema_length=None), COST_LINES)


@pytest.fixture(scope="module")
def classified() -> pl.DataFrame:
    return with_ai_columns(_frame([line for line, *_ in CASES]))


@pytest.mark.parametrize("i", range(len(CASES)), ids=[str(c[0]) for c in CASES])
def test_line_is_classified(classified, i):
    _, category, model, token = CASES[i]
    row = classified.row(i, named=True)
    assert (row["x_ai_category"], row["x_model"], row["x_token_type"]) == (category, model, token)
    assert row["x_is_ai"] is (category is not None)


def test_token_units_become_tokens():
    rows = [
        dict(ServiceName="Azure OpenAI", SkuMeter="gpt 4o 0513 Input global Tokens", ConsumedQuantity=2.0, ConsumedUnit="1K"),
        dict(ServiceName="Azure OpenAI", SkuMeter="gpt 4o 0513 Input global Tokens", ConsumedQuantity=1.5, ConsumedUnit="1M Tokens"),
        dict(ServiceName="Azure OpenAI", SkuMeter="gpt 4o 0513 Input global Tokens", ConsumedQuantity=7.0, ConsumedUnit="Tokens"),
        dict(ServiceName="Azure OpenAI", SkuMeter="gpt 4o 0513 Input global Tokens", ConsumedQuantity=3.0, ConsumedUnit="10K"),
        dict(ServiceName="Virtual Machines", SkuMeter="NC6s v3", ConsumedQuantity=24.0, ConsumedUnit="1 Hour"),
        dict(ServiceName="Storage", SkuMeter="Read Operations", ConsumedQuantity=3.0, ConsumedUnit="10K"),
    ]
    out = with_ai_columns(_frame(rows))
    assert out["ConsumedQuantity"].to_list() == [2_000, 1_500_000, 7, 30_000, 24, 3]
    assert out["ConsumedUnit"].to_list() == ["Tokens", "Tokens", "Tokens", "Tokens", "1 Hour", "10K"]


def test_works_lazily_and_on_no_rows():
    lazy = with_ai_columns(_frame([CASES[0][0]]).lazy())
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect()["x_model"].to_list() == ["gpt-4o-2024-05-13"]
    empty = with_ai_columns(_frame([CASES[0][0]]).head(0))
    assert empty.height == 0 and empty.schema["x_is_ai"] == pl.Boolean
