"""normalize_provider / normalize_model: logged ids land on ids the price table has.

Expected ids are written by hand after reading genai-prices' bundled data (and, where the point is "the id
calc_price would use", cross-checked against the library's own matcher).
"""

from __future__ import annotations

import polars as pl
import pytest
from genai_prices.data_snapshot import get_snapshot

from pipelines.models import canonical_model, normalize_model, normalize_provider, price_catalog


def _norm(pairs: list[tuple[str | None, str | None]]) -> list[str | None]:
    frame = pl.DataFrame(
        {"provider": [p for p, _ in pairs], "model": [m for _, m in pairs]},
        schema={"provider": pl.String, "model": pl.String},
    )
    return frame.select(normalize_model(pl.col("provider"), pl.col("model")))["model"].to_list()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("aws.bedrock", "aws"),
        ("bedrock", "aws"),
        ("amazon-bedrock", "aws"),
        ("azure.ai.openai", "azure"),
        ("azure_openai", "azure"),
        ("gcp.vertex_ai", "google"),
        ("gcp.gemini", "google"),
        ("gcp.gen_ai", "google"),
        ("vertex_ai", "google"),
        ("gemini", "google"),
        (" OpenAI ", "openai"),
        ("Anthropic", "anthropic"),
        ("aws", "aws"),
        ("mistral_ai", "mistral"),
        ("some-new-vendor", "some-new-vendor"),
        (None, None),
    ],
)
def test_normalize_provider(raw, expected):
    out = pl.DataFrame({"p": [raw]}, schema={"p": pl.String}).select(normalize_provider(pl.col("p")))
    assert out.item() == expected


@pytest.mark.parametrize(
    ("provider", "raw", "expected"),
    [
        # Bedrock foundation-model ARN -> the aws model genai-prices prices for on-demand (regional) use
        (
            "aws.bedrock",
            "arn:aws:bedrock:us-east-1:123456789012:foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            "regional.anthropic.claude-3-haiku-20240307-v1:0",
        ),
        # inference-profile ARN and bare inference-profile id: same regional price
        (
            "bedrock",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
            "regional.anthropic.claude-sonnet-4-20250514-v1:0",
        ),
        ("aws", "us.anthropic.claude-sonnet-4-20250514-v1:0", "regional.anthropic.claude-sonnet-4-20250514-v1:0"),
        ("aws", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "regional.anthropic.claude-3-7-sonnet-20250219-v1:0"),
        ("aws", "apac.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        # global profiles have their own (cheaper) price: the prefix must survive
        (
            "aws",
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        # LiteLLM style provider prefix and Bedrock route
        ("openai", "openai/gpt-4o", "gpt-4o"),
        ("bedrock", "bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0",
         "regional.anthropic.claude-sonnet-4-20250514-v1:0"),
        # dated snapshots -> the id the table has
        ("openai", "gpt-4o-2024-08-06", "gpt-4o"),
        ("openai", "GPT-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("openai", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),  # priced differently: its own row
        ("openai", "gpt-5.2-20251211", "gpt-5.2"),  # compact date
        ("anthropic", "claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4-0"),
        ("azure_openai", "gpt-4o-2024-08-06", "gpt-4o"),
        ("gcp.vertex_ai", "projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash",
         "gemini-2.5-flash"),
        # ids that really contain a slash are kept
        ("perplexity", "perplexity/sonar", "perplexity/sonar"),
        # unknown: cleaned, not guessed
        ("openai", " My-Fine-Tune-X ", "my-fine-tune-x"),
        ("nobody", "Some/Model", "some/model"),
        (None, "GPT-4o", "gpt-4o"),
        ("openai", None, None),
    ],
)
def test_normalize_model(provider, raw, expected):
    assert _norm([(provider, raw)]) == [expected]


def test_normalized_ids_are_what_calc_price_uses():
    """For ids the library matches directly, the normalized id is the id of the model calc_price picks."""
    snapshot = get_snapshot()
    cases = [
        ("aws", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("aws", "us.anthropic.claude-sonnet-4-20250514-v1:0"),
        ("openai", "gpt-4o-2024-11-20"),
        ("anthropic", "claude-3-5-haiku-20241022"),
        ("google", "gemini-1.5-pro-002"),
        ("azure", "gpt-4o-mini"),
    ]
    expected = [snapshot.find_provider_model(m, None, p, None)[1].id.lower() for p, m in cases]
    assert _norm(cases) == expected


def test_every_table_id_normalizes_to_a_table_id():
    """Normalizing twice is safe: a reader may store normalized ids and a later step normalize them again."""
    catalog = price_catalog()
    ids = {(c.provider, c.model) for c in catalog}
    pairs = sorted(ids, key=lambda x: (x[0], x[1]))
    out = _norm(pairs)
    assert [(p, m) for (p, _), m in zip(pairs, out) if (p, m) not in ids] == []
    same = sum(1 for (_, m), n in zip(pairs, out) if m == n)
    assert same / len(pairs) > 0.99


def test_result_is_named_like_the_model_column():
    frame = pl.DataFrame({"provider": ["openai"], "raw_model": ["gpt-4o-2024-08-06"]})
    out = frame.with_columns(normalize_model(pl.col("provider"), pl.col("raw_model")))
    assert out.columns == ["provider", "raw_model"]
    assert out.row(0) == ("openai", "gpt-4o")


def test_matcher_runs_once_per_distinct_id_not_per_row():
    canonical_model.cache_clear()
    n = 200_000
    frame = pl.DataFrame(
        {
            "provider": ["openai", "aws", "anthropic", "openai"] * (n // 4),
            "model": ["gpt-4o-2024-08-06", "us.anthropic.claude-sonnet-4-20250514-v1:0",
                      "claude-3-5-sonnet-20241022", "never-heard-of-it"] * (n // 4),
        }
    )
    out = frame.lazy().select(normalize_model(pl.col("provider"), pl.col("model"))).collect()
    assert out.height == n
    assert canonical_model.cache_info().misses == 4
