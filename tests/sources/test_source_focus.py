"""FOCUS reader: real sample totals against plain DuckDB SQL, the spec's worked examples, and refused input."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.config import SourceConfig
from tests.support.builders import with_options
from pipelines.errors import SourceError
from pipelines.schemas import COST_LINES
from pipelines.sources import focus, spec

SOURCE = SourceConfig(name="focus_test", kind="focus", path="unused")
HEADER = "Id,BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName"


def _sample(samples_dir: Path) -> str:
    return str(samples_dir / "finops-focus-sample-data" / "focus_sample.csv")


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_readers_registry_names_focus():
    assert spec("focus").read is focus.read


def test_sample_totals_match_duckdb(samples_dir):
    path = _sample(samples_dir)
    expected = duckdb.connect().sql(
        """
        SELECT ProviderName, count(*) AS n,
               sum(TRY_CAST(BilledCost AS DOUBLE)) AS billed, sum(TRY_CAST(EffectiveCost AS DOUBLE)) AS effective
        FROM read_csv(?, nullstr='NULL', all_varchar=true) GROUP BY ProviderName
        """,
        params=[path],
    ).fetchall()
    frame = focus.read(path, SOURCE)
    got = {
        r["ProviderName"]: r
        for r in frame.group_by("ProviderName")
        .agg(pl.len().alias("n"), pl.col("BilledCost").sum().alias("billed"), pl.col("EffectiveCost").sum().alias("e"))
        .to_dicts()
    }
    assert frame.height == sum(n for _, n, _, _ in expected) == 1000
    assert set(got) == {p for p, *_ in expected}
    for provider, n, billed, effective in expected:
        assert got[provider]["n"] == n
        assert got[provider]["billed"] == pytest.approx(billed, abs=1e-6)
        assert got[provider]["e"] == pytest.approx(effective, abs=1e-6)


def test_sample_is_conformed_and_normalized(samples_dir):
    path = _sample(samples_dir)
    frame = focus.read(path, SOURCE)
    assert dict(frame.schema) == COST_LINES
    con = duckdb.connect()
    rel = f"read_csv('{path}', nullstr='NULL', all_varchar=true)"
    ids = [r[0] for r in con.sql(f"SELECT Id FROM {rel}").fetchall()]
    assert frame["x_line_id"].to_list() == ids  # the file's own Id column, in file order
    # AI lines: the AI service category, plus GPU instances named in the charge description (the sample has
    # AWS g3/g5 instance hours in "Compute")
    ai_rows = con.sql(
        f"""SELECT count(*) FILTER (WHERE lower(ServiceCategory) = 'ai and machine learning'),
                   count(*) FILTER (WHERE regexp_matches(ChargeDescription, ' (g[3-6][a-z]*|p[2-5][a-z]*)\\.[0-9]*xlarge '))
            FROM {rel}"""
    ).fetchone()
    assert ai_rows[1] > 0
    assert frame["x_is_ai"].sum() == ai_rows[0] + ai_rows[1]
    assert frame.filter(pl.col("x_ai_category") == "ai_compute").height == ai_rows[1]
    assert frame.filter(pl.col("x_ai_category") == "ai_service").height == ai_rows[0]
    assert frame["ChargePeriodStart"].min() == datetime(2024, 9, 1)
    assert frame["ChargePeriodEnd"].max() == datetime(2024, 10, 1)
    assert set(frame["ChargeCategory"]) == {"Usage", "Adjustment", "Credit"}
    assert frame["x_source"].unique().to_list() == ["focus_test"]
    assert frame["x_source_file"].unique().to_list() == [path]
    tagged = con.sql(f"SELECT count(*) FROM {rel} WHERE Tags IS NOT NULL AND Tags <> ''").fetchone()[0]
    assert frame["Tags"].is_not_null().sum() == tagged
    assert frame["Tags"].drop_nulls().str.starts_with("{").all()


def test_gzip_and_parquet_give_the_same_rows(samples_dir, tmp_path):
    path = _sample(samples_dir)
    plain = focus.read(path, SOURCE)
    gz = tmp_path / "focus.csv.gz"
    gz.write_bytes(gzip.compress(Path(path).read_bytes()))
    from_gz = focus.read(str(gz), SOURCE)
    parquet = tmp_path / "focus.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{path}', nullstr='NULL')) TO '{parquet}' (FORMAT parquet)"
    )
    from_parquet = focus.read(str(parquet), SOURCE)
    for other in (from_gz, from_parquet):
        assert other.height == plain.height
        assert other["BilledCost"].sum() == pytest.approx(plain["BilledCost"].sum(), abs=1e-9)
        assert other["x_line_id"].to_list() == plain["x_line_id"].to_list()
        assert other["ChargePeriodStart"].to_list() == plain["ChargePeriodStart"].to_list()


@pytest.mark.parametrize(
    ("name", "billed", "effective", "rows"),
    [
        ("commitment_discount_purchase_scenario_1.csv", 8760.00, 0.00, 1),
        ("commitment_discount_usage_scenario_3.csv", 0.00, 1.00, 2),
    ],
)
def test_spec_scenarios(samples_dir, name, billed, effective, rows):
    path = str(samples_dir / "focus-spec" / name)
    # The worked examples carry no currency or provider: refused as they are, loaded when the source says them.
    with pytest.raises(SourceError, match="BillingCurrency"):
        focus.read(path, SOURCE)
    source = with_options(SOURCE, {"billing_currency": "USD", "provider_name": "Example"})
    frame = focus.read(path, source)
    assert frame.height == rows
    assert frame["BilledCost"].sum() == pytest.approx(billed)
    assert frame["EffectiveCost"].sum() == pytest.approx(effective)
    assert frame["BillingCurrency"].to_list() == ["USD"] * rows
    assert frame["ChargePeriodStart"].to_list() == [datetime(2023, 1, 1)] * rows
    assert frame["x_line_id"].n_unique() == rows
    assert focus.read(path, source)["x_line_id"].to_list() == frame["x_line_id"].to_list()  # stable ids


def test_unused_commitment_literal_null_is_null(samples_dir):
    source = with_options(SOURCE, {"billing_currency": "USD", "provider_name": "Example"})
    frame = focus.read(str(samples_dir / "focus-spec" / "commitment_discount_usage_scenario_3.csv"), source)
    assert frame["ConsumedQuantity"].to_list() == [1.0, None]


def test_quirks_are_tolerated(tmp_path):
    path = _write(
        tmp_path,
        "quirks.csv",
        "Id,BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeClass,"
        "ProviderName,ServiceCategory,ServiceSubcategory,x_model,x_token_type,Tags\n"
        "a,1.5,1.25,usd,2024-09-01T00:00:00Z,2024-09-01T01:00:00Z,usage,NULL,OpenAI,NULL,,gpt-4o,input,NULL\n"
        "b,-0.5,-0.5,EUR,2024-09-01 02:00:00+02:00,2024-09-01 03:00:00+02:00,CREDIT,correction,AWS,Compute,"
        'Generative AI,,,"{""team"": ""x""}"\n'
        "c,2,2,USD,2024-09-01,2024-09-02,Tax,,AWS,ai and machine learning,NULL,null,,\n",
    )
    frame = focus.read(path, SOURCE)
    assert frame["ChargeCategory"].to_list() == ["Usage", "Credit", "Tax"]
    assert frame["ChargeClass"].to_list() == [None, "Correction", None]
    assert frame["BillingCurrency"].to_list() == ["USD", "EUR", "USD"]
    assert frame["ChargePeriodStart"].to_list() == [datetime(2024, 9, 1, 0), datetime(2024, 9, 1, 0), datetime(2024, 9, 1)]
    assert frame["x_is_ai"].to_list() == [True, True, True]
    assert frame["x_model"].to_list() == ["gpt-4o", None, None]
    assert frame["x_token_type"].to_list() == ["input", None, None]
    assert frame["Tags"].to_list() == [None, '{"team": "x"}', None]


def test_content_ids_when_the_file_has_none(tmp_path):
    body = "BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName\n"
    row = "1,1,USD,2024-09-01,2024-09-02,Usage,AWS\n"
    path = _write(tmp_path, "noid.csv", body + row + row)  # identical rows are still two lines
    ids = focus.read(path, SOURCE)["x_line_id"].to_list()
    assert len(set(ids)) == 2
    assert focus.read(path, SOURCE)["x_line_id"].to_list() == ids


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("text_cost.csv", f"{HEADER}\na,1,1,USD,2024-09-01,2024-09-02,Usage,AWS\nb,ten,1,USD,2024-09-01,2024-09-02,Usage,AWS\n",
         "row 2, column 'BilledCost'"),
        ("no_currency.csv", "Id,BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName\n"
         "a,1,1,2024-09-01,2024-09-02,Usage,AWS\n", "column 'BillingCurrency'"),
        ("xyz.csv", f"{HEADER}\na,1,1,USD,2024-09-01,2024-09-02,Usage,AWS\nb,1,1,USD,2024-09-01,2024-09-02,Usage,AWS\n"
         "c,1,1,XYZ,2024-09-01,2024-09-02,Usage,AWS\n", "row 3, column 'BillingCurrency'"),
        ("blank_currency.csv", f"{HEADER}\na,1,1,NULL,2024-09-01,2024-09-02,Usage,AWS\n", "row 1, column 'BillingCurrency'"),
        ("dup.csv", f"{HEADER}\na,1,1,USD,2024-09-01,2024-09-02,Usage,AWS\nb,1,1,USD,2024-09-01,2024-09-02,Usage,AWS\n"
         "a,1,1,USD,2024-09-01,2024-09-02,Usage,AWS\n", "row 3, column 'Id'"),
        ("bad_time.csv", f"{HEADER}\na,1,1,USD,2024-09-01,2024-09-02,Usage,AWS\nb,1,1,USD,yesterday,2024-09-02,Usage,AWS\n",
         "row 2, column 'ChargePeriodStart'"),
        ("no_start.csv", f"{HEADER}\na,1,1,USD,,2024-09-02,Usage,AWS\n", "row 1, column 'ChargePeriodStart'"),
    ],
)
def test_bad_input_is_refused_naming_file_and_place(tmp_path, name, text, where):
    path = _write(tmp_path, name, text)
    with pytest.raises(SourceError) as caught:
        focus.read(path, SOURCE)
    assert str(caught.value).startswith(path)
    assert where in str(caught.value)


def test_truncated_gzip_is_refused(samples_dir, tmp_path):
    whole = gzip.compress(Path(_sample(samples_dir)).read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SourceError, match="gzip") as caught:
        focus.read(str(path), SOURCE)
    assert str(path) in str(caught.value)


def test_unknown_suffix_is_refused(tmp_path):
    path = _write(tmp_path, "costs.txt", HEADER + "\n")
    with pytest.raises(SourceError, match="unsupported"):
        focus.read(path, SOURCE)


FIXTURES = Path(__file__).parents[1] / "fixtures" / "sources"

# Hand-made exports in each cloud's FOCUS shape (see docs/sources/focus_and_azure.md): expected per-row AI
# categories, models and token quantities are written out by hand here.
CLOUDS = {
    "focus_aws_1_0.csv": dict(
        category=["model_usage", "model_usage", "ai_compute", None, "ai_service"],
        model=[None, None, None, None, None],
        token=["input", "cache_read", None, None, None],
        quantity=[4_000_000, 1_000_000, 24, 200, None],
        meter=["USE1-Claude4.6Sonnet-input-tokens", "USE1-Claude4.6Sonnet-cache-read-input-token-count",
               "BoxUsage:p5.48xlarge", "TimedStorage-ByteHrs", None],
    ),
    "focus_azure_1_0.csv": dict(
        category=["model_usage", "model_usage", "ai_compute", None],
        model=["gpt-4o-2024-05-13", "gpt-4.1-mini", None, None],
        token=["input", "output", None, None],
        quantity=[12_500, 562_500, 24, 150],
        meter=["gpt 4o 0513 Input global Tokens", "gpt-4.1-mini Outp Glbl Tokens", "NC6s v3", "Hot LRS Data Stored"],
    ),
    "focus_gcp.csv": dict(
        category=["model_usage", "model_usage", "ai_compute", None],
        model=["gemini-2.5-flash", "gemini-2.5-flash", None, None],
        token=["input", "output", None, None],
        quantity=[5_000_000, 2_000_000, 1, 1],
        meter=[None] * 4,
    ),
    "focus_oci.csv": dict(
        category=["ai_compute", None], model=[None, None], token=[None, None], quantity=[24, 25], meter=[None, None],
    ),
}


@pytest.mark.parametrize("name", sorted(CLOUDS))
def test_each_clouds_export_shape(name):
    path = str(FIXTURES / name)
    expected = duckdb.connect().sql(
        "SELECT count(*), sum(BilledCost::DOUBLE), sum(EffectiveCost::DOUBLE), min(BillingCurrency), "
        "min(strptime(replace(ChargePeriodStart, 'Z', ''), ['%Y-%m-%dT%H:%M:%S.%g', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M'])) "
        "FROM read_csv(?, all_varchar=true)",
        params=[path],
    ).fetchone()
    frame = focus.read(path, SOURCE)
    assert dict(frame.schema) == COST_LINES
    assert frame.height == expected[0]
    assert frame["BilledCost"].sum() == pytest.approx(expected[1])
    assert frame["EffectiveCost"].sum() == pytest.approx(expected[2])
    assert frame["BillingCurrency"].unique().to_list() == [expected[3]]
    assert frame["ChargePeriodStart"].min() == expected[4]
    want = CLOUDS[name]
    assert frame["x_ai_category"].to_list() == want["category"]
    assert frame["x_is_ai"].to_list() == [c is not None for c in want["category"]]
    assert frame["x_model"].to_list() == want["model"]
    assert frame["x_token_type"].to_list() == want["token"]
    assert frame["ConsumedQuantity"].to_list() == want["quantity"]
    assert frame["SkuMeter"].to_list() == want["meter"]


def test_azure_minute_times_and_oci_preview_names():
    azure = focus.read(str(FIXTURES / "focus_azure_1_0.csv"), SOURCE)
    assert azure["BillingPeriodEnd"].unique().to_list() == [datetime(2025, 4, 1)]
    assert azure["ChargePeriodEnd"].unique().to_list() == [datetime(2025, 3, 2)]
    oci = focus.read(str(FIXTURES / "focus_oci.csv"), SOURCE)
    assert oci["ConsumedUnit"].to_list() == ["GPU Per Hour", "Gigabyte Storage Capacity Per Month"]


def test_lowercase_headers_read_like_the_spec_names(tmp_path):
    text = (FIXTURES / "focus_aws_1_0.csv").read_text()
    header, body = text.split("\n", 1)
    path = _write(tmp_path, "lower.csv", header.lower() + "\n" + body)
    lower = focus.read(path, SOURCE)
    spec = focus.read(str(FIXTURES / "focus_aws_1_0.csv"), SOURCE)
    assert lower.drop("x_source_file").equals(spec.drop("x_source_file"))


def test_parquet_with_map_tags_and_typed_columns(tmp_path):
    """AWS Data Exports write FOCUS Parquet with timestamps typed and Tags as a map."""
    src = str(FIXTURES / "focus_aws_1_0.csv")
    parquet = tmp_path / "aws.parquet"
    duckdb.sql(
        f"""COPY (SELECT * REPLACE (
                CAST(BilledCost AS DECIMAL(18, 6)) AS BilledCost,
                ChargePeriodStart::TIMESTAMPTZ AS ChargePeriodStart,
                CASE WHEN Tags IS NULL THEN NULL ELSE CAST(json_transform(Tags, '"MAP(VARCHAR, VARCHAR)"')
                     AS MAP(VARCHAR, VARCHAR)) END AS Tags)
              FROM read_csv('{src}')) TO '{parquet}' (FORMAT parquet)"""
    )
    frame = focus.read(str(parquet), SOURCE)
    plain = focus.read(src, SOURCE)
    assert frame["BilledCost"].sum() == pytest.approx(plain["BilledCost"].sum())
    assert frame["ChargePeriodStart"].to_list() == plain["ChargePeriodStart"].to_list()
    assert frame["Tags"].to_list() == ['{"team":"support"}', "{}", '{"purpose":"training"}', None, None]
    assert frame["x_ai_category"].to_list() == plain["x_ai_category"].to_list()


def test_explicit_model_and_token_type_win_over_the_meter(tmp_path):
    path = _write(
        tmp_path,
        "explicit.csv",
        f"{HEADER},ServiceName,SkuMeter,x_model,x_token_type\n"
        "a,1,1,USD,2025-03-01,2025-03-02,Usage,Microsoft,Azure OpenAI,gpt 4o 0513 Input global Tokens,my-model,output\n"
        "b,1,1,USD,2025-03-01,2025-03-02,Usage,Microsoft,Azure OpenAI,gpt 4o 0513 Input global Tokens,,\n",
    )
    frame = focus.read(path, SOURCE)
    assert frame["x_model"].to_list() == ["my-model", "gpt-4o-2024-05-13"]
    assert frame["x_token_type"].to_list() == ["output", "input"]


def test_demo_gpu_line_is_ai(tmp_path):
    """The demo's BoxUsage:g5.12xlarge line (Compute, not an AI service) counts as AI compute."""
    path = _write(
        tmp_path,
        "gpu.csv",
        f"{HEADER},ServiceName,ServiceCategory,SkuId,SkuMeter\n"
        "a,136.1,136.1,USD,2025-03-01,2025-03-02,Usage,AWS,Amazon Elastic Compute Cloud,Compute,"
        "BoxUsage:g5.12xlarge,BoxUsage:g5.12xlarge\n"
        "b,9.2,9.2,USD,2025-03-01,2025-03-02,Usage,AWS,Amazon Elastic Compute Cloud,Compute,"
        "BoxUsage:m6i.xlarge,BoxUsage:m6i.xlarge\n",
    )
    frame = focus.read(path, SOURCE)
    assert frame["x_ai_category"].to_list() == ["ai_compute", None]
    assert frame["x_is_ai"].to_list() == [True, False]
