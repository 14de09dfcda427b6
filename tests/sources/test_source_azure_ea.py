"""Azure EA / MCA cost-details reader: the three real samples against plain DuckDB SQL over the raw files,
AI lines in a hand-made EA export, and refused input."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.config import SourceConfig
from tests.support.builders import with_options
from pipelines.errors import SourceError
from pipelines.schemas import COST_LINES
from pipelines.sources import azure_ea, spec

SOURCE = SourceConfig(name="ea_test", kind="azure_ea", path="unused")
FIXTURE = Path(__file__).parents[1] / "fixtures" / "sources" / "azure_ea_openai_actual.csv"

# (file, cost column, currency column, cost view, source options)
SAMPLES = [
    ("microsoft-finops-toolkit/EA_ActualCost_Small.csv", "Cost", "BillingCurrency", "actual", {}),
    ("microsoft-finops-toolkit/EA_AmortizedCost_Small.csv", "Cost", "BillingCurrency", "amortized", {}),
    ("focus-converters/sample-anonymous-ea-export-dataset.csv", "CostInBillingCurrency", "BillingCurrencyCode",
     "actual", {"cost_view": "actual"}),
]


def _source(**options) -> SourceConfig:
    return with_options(SOURCE, options)


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_registry_names_azure_ea():
    assert spec("azure_ea").read is azure_ea.read


@pytest.mark.parametrize(("name", "cost", "currency", "view", "options"), SAMPLES)
def test_sample_totals_match_duckdb(samples_dir, name, cost, currency, view, options):
    path = str(samples_dir / name)
    con = duckdb.connect()
    rel = "read_csv(?, all_varchar=true)"
    n, total = con.sql(f"SELECT count(*), sum({cost}::DOUBLE) FROM {rel}", params=[path]).fetchone()
    by_currency = dict(con.sql(f"SELECT {currency}, sum({cost}::DOUBLE) FROM {rel} GROUP BY 1", params=[path]).fetchall())
    by_type = dict(con.sql(f"SELECT ChargeType, sum({cost}::DOUBLE) FROM {rel} GROUP BY 1", params=[path]).fetchall())
    days = con.sql(
        f"SELECT min(strptime(Date, '%m/%d/%Y')), max(strptime(Date, '%m/%d/%Y')) FROM {rel}", params=[path]
    ).fetchone()

    frame = azure_ea.read(path, _source(**options))
    assert dict(frame.schema) == COST_LINES
    assert frame.height == n
    shown, hidden = ("BilledCost", "EffectiveCost") if view == "actual" else ("EffectiveCost", "BilledCost")
    assert frame[shown].sum() == pytest.approx(total, abs=1e-9)
    assert frame[hidden].null_count() == n  # one file, one cost figure: never both
    got_currency = dict(frame.group_by("BillingCurrency").agg(pl.col(shown).sum()).iter_rows())
    assert got_currency.keys() == by_currency.keys()
    for code, value in by_currency.items():
        assert got_currency[code] == pytest.approx(value, abs=1e-9)
    category = {"Usage": "Usage", "Purchase": "Purchase"}
    got_type = dict(frame.group_by("ChargeCategory").agg(pl.col(shown).sum()).iter_rows())
    assert got_type.keys() == {category[t] for t in by_type}
    for charge_type, value in by_type.items():
        assert got_type[category[charge_type]] == pytest.approx(value, abs=1e-9)
    assert frame["ChargePeriodStart"].min() == days[0]
    assert frame["ChargePeriodStart"].max() == days[1]
    assert (frame["ChargePeriodEnd"] - frame["ChargePeriodStart"]).unique().to_list() == [
        datetime(2023, 9, 2) - datetime(2023, 9, 1)
    ]
    assert frame["BillingPeriodStart"].unique().to_list() == [datetime(2023, 9, 1)]
    assert frame["BillingPeriodEnd"].unique().to_list() == [datetime(2023, 10, 1)]  # exclusive end
    assert frame["ProviderName"].unique().to_list() == ["Microsoft"]
    assert frame["x_line_id"].n_unique() == n
    assert azure_ea.read(path, _source(**options))["x_line_id"].to_list() == frame["x_line_id"].to_list()
    subs = con.sql(f"SELECT list(SubscriptionId ORDER BY SubscriptionId) FROM {rel}", params=[path]).fetchone()[0]
    assert sorted(frame["SubAccountId"].to_list()) == subs
    meters = con.sql(f"SELECT list(MeterId ORDER BY MeterId) FROM {rel}", params=[path]).fetchone()[0]
    assert sorted(frame["SkuId"].to_list()) == meters
    for tags in frame["Tags"].drop_nulls():
        assert isinstance(json.loads(tags), dict)
    tagged = con.sql(f"SELECT count(Tags) FROM {rel}", params=[path]).fetchone()[0]
    assert frame["Tags"].is_not_null().sum() == tagged
    assert frame["x_is_ai"].sum() == 0  # the samples hold no AI services or GPU machines


def test_actual_and_amortized_of_one_row_get_different_ids(samples_dir, tmp_path):
    text = (samples_dir / "microsoft-finops-toolkit" / "EA_ActualCost_Small.csv").read_bytes()
    actual = azure_ea.read("ea.csv", _source(cost_view="actual"), data=text)
    amortized = azure_ea.read("ea.csv", _source(cost_view="amortized"), data=text)
    assert set(actual["x_line_id"]).isdisjoint(amortized["x_line_id"])


def test_ai_lines_in_an_ea_export():
    frame = azure_ea.read(str(FIXTURE), SOURCE)  # the file name says "actual"
    expected_total = duckdb.sql(f"SELECT sum(Cost::DOUBLE) FROM read_csv('{FIXTURE}', all_varchar=true)").fetchone()[0]
    assert frame["BilledCost"].sum() == pytest.approx(expected_total)
    assert frame["x_ai_category"].to_list() == [
        "model_usage", "model_usage", "model_usage", "provisioned_throughput", "ai_compute", "ai_service", None,
        "ai_compute",
    ]
    assert frame["x_model"].to_list() == ["gpt-4o-2024-05-13", "gpt-4o", "gpt-4.1-mini"] + [None] * 5
    assert frame["x_token_type"].to_list() == ["input", "cache_read", "output"] + [None] * 5
    # Quantity 120 x 1K, 0.5 x 1M, 2 x 1M tokens; other units stay as billed
    assert frame["ConsumedQuantity"].to_list() == [120_000, 500_000, 2_000_000, 24, 24, 3, 10, 1]
    assert frame["ConsumedUnit"].to_list()[:4] == ["Tokens", "Tokens", "Tokens", "1 Hour"]
    assert frame["ChargeCategory"].to_list()[-1] == "Purchase"
    assert frame["ChargeClass"].to_list() == [None] * 7 + ["Correction"]
    assert frame["Tags"].to_list()[0] == '{"team": "support"}'
    assert frame["ChargeFrequency"].to_list()[-1] == "One-Time"
    assert frame["PricingCategory"].to_list()[-1] == "Committed"


def test_cost_view_must_be_known(tmp_path):
    text = FIXTURE.read_bytes()
    with pytest.raises(SourceError, match="cost_view"):
        azure_ea.read("s3://bucket/export/part-1.csv", SOURCE, data=text)
    with pytest.raises(SourceError, match="cost_view"):
        azure_ea.read("both_actual_and_amortized.csv", SOURCE, data=text)
    with pytest.raises(ValueError, match="cost_view"):  # refused when the config loads, before any file is read
        _source(cost_view="net")
    assert azure_ea.read("x.csv", _source(cost_view=" Actual "), data=text)["EffectiveCost"].null_count() > 0
    frame = azure_ea.read("s3://bucket/export/part-1.csv", _source(cost_view="amortized"), data=text)
    assert frame["BilledCost"].null_count() == frame.height


def _bad(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


HEADER = "Date,Cost,BillingCurrency,ChargeType,MeterCategory,MeterName,Quantity"
GOOD = "09/01/2023,1.5,USD,Usage,Storage,Hot LRS,1"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (_bad(HEADER, GOOD, "09/01/2023,1.2.3,USD,Usage,Storage,Hot LRS,1"), "row 2, column 'Cost': not a number: '1.2.3'"),
        (_bad(HEADER, GOOD, GOOD, "09/01/2023,,USD,Usage,Storage,Hot LRS,1"), "row 3, column 'Cost': missing cost"),
        (_bad(HEADER, GOOD, "09/01/2023,1,XYZ,Usage,Storage,Hot LRS,1"), "row 2, column 'BillingCurrency'"),
        (_bad(HEADER, "09/01/2023,1,,Usage,Storage,Hot LRS,1"), "row 1, column 'BillingCurrency'"),
        (_bad(HEADER.replace("Date,", "UsageDate,"), GOOD), "column 'Date': missing required column"),
        (_bad(HEADER, GOOD, "2023-13-45,1,USD,Usage,Storage,Hot LRS,1"), "row 2, column 'Date': not a date"),
        (_bad(HEADER, GOOD, "09/01/2023,1,USD,Bonus,Storage,Hot LRS,1"), "row 2, column 'ChargeType'"),
        (_bad(HEADER, GOOD, "09/01/2023,1,USD,Usage,Storage,Hot LRS,many"), "row 2, column 'Quantity'"),
        (_bad(HEADER.replace("Cost,", "Amount,"), GOOD), "column 'CostInBillingCurrency': missing cost column"),
        (_bad(HEADER + ",Tags", GOOD + ',"""a"": ""b"""', GOOD + ',"""a"": ""b"" ""c"""'), "row 2, column 'Tags'"),
    ],
)
def test_bad_input_is_refused_naming_row_and_column(tmp_path, text, where):
    path = _write(tmp_path, "bad_actual.csv", text)
    with pytest.raises(SourceError) as caught:
        azure_ea.read(path, SOURCE)
    assert str(caught.value).startswith(path)
    assert where in str(caught.value)


def test_mca_camel_case_and_iso_dates(tmp_path):
    path = _write(
        tmp_path,
        "mca_amortized.csv",
        "date,costInBillingCurrency,billingCurrency,chargeType,meterCategory,meterName,quantity,unitOfMeasure\n"
        "2025-03-02,2.5,eur,Usage,Cognitive Services,gpt 4o 0513 Outp glbl Tokens,3,1K\n"
        "2025-03-03T00:00:00.0000000Z,1.0,EUR,UnusedReservation,Virtual Machines,D2 v3,1,1 Hour\n",
    )
    frame = azure_ea.read(path, SOURCE)
    assert frame["EffectiveCost"].to_list() == [2.5, 1.0]
    assert frame["BillingCurrency"].to_list() == ["EUR", "EUR"]
    assert frame["ChargePeriodStart"].to_list() == [datetime(2025, 3, 2), datetime(2025, 3, 3)]
    assert frame["ChargeCategory"].to_list() == ["Usage", "Usage"]
    assert frame["BillingPeriodStart"].to_list() == [datetime(2025, 3, 1)] * 2
    assert frame["x_model"].to_list() == ["gpt-4o-2024-05-13", None]
    assert frame["ConsumedQuantity"].to_list() == [3000, 1]
