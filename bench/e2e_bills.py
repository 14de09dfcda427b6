"""The bills of bench/end_to_end.py's data set, derived from the day's logged tokens (bench/e2e_files.py).

Per day, provider, logged model, region and token type: the tokens at scale.py's flat list rates, billed 5% under
list. AWS's lines (Bedrock tokens, an EC2 fleet and an S3 bucket every day, an idle SageMaker endpoint on
Sundays) go to a CUR 2.0 Data Export, a Parquet file per billing month listed by the month's manifest; the
other providers' to one FOCUS 1.2 CSV per provider and month. A re-delivery (`redeliver`) writes the month
again under a new execution folder with some lines changed and a refund, and points the manifest at it,
leaving the old delivery beside it as AWS does (the reader must read only what the manifest lists).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from pipelines.demo.billing import FOCUS_COLUMNS
from pipelines.models import normalize_model, normalize_provider
from scale import INVOICE_DISCOUNT, LIST_RATES, REGIONS

SELF_HOSTED = ["acme-llm"]  # on no bill
REDELIVERY_CHANGE = 1.03     # every tenth line of a re-delivered month costs this much more
PAYER, USAGE_ACCOUNT, EXPORT, BUCKET = "111122223333", "444455556666", "acme-cur", "acme-billing"
TOKENS = {"input": "input_tokens", "cache_read": "cache_read_tokens", "cache_write": "cache_write_tokens",
          "output": "output_tokens"}
# The model names AWS writes in Bedrock usage types (FORMATS.md), for the logged Bedrock ids of the mix.
CUR_MODEL_NAMES = {
    "us.anthropic.claude-sonnet-4-20250514-v1:0": "Claude4Sonnet",
    "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0": "NovaPro",
    "amazon.nova-lite-v1:0": "NovaLite",
    "meta.llama3-1-70b-instruct-v1:0": "Llama3.1-70B",
    "bedrock/converse/anthropic.claude-3-5-haiku-20241022-v1:0": "Claude3.5Haiku",
}
CUR_TOKEN_SUFFIX = {"input": "input-tokens", "output": "output-tokens",
                    "cache_read": "cache-read-input-token-count", "cache_write": "cache-write-input-token-count"}
CUR_REGION_PREFIX = {"us-east-1": "USE1", "eu-west-1": "EU", "ap-northeast-1": "APN1"}
# Logged provider -> (biller, the file's name for it; ServiceName, ProviderName on its lines).
BILLERS = {"openai": ("openai", "OpenAI API", "OpenAI"), "anthropic": ("anthropic", "Claude API", "Anthropic"),
           "gcp.vertex_ai": ("google", "Vertex AI", "Google Cloud"),
           "azure.ai.openai": ("azure", "Azure OpenAI Service", "Microsoft"),
           "mistral_ai": ("mistral", "Mistral AI API", "Mistral AI")}
MAP = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
CUR_SCHEMA = {
    "bill_billing_period_start_date": pl.Datetime("us"), "bill_billing_period_end_date": pl.Datetime("us"),
    "bill_payer_account_id": pl.String, "bill_invoice_id": pl.String, "identity_line_item_id": pl.String,
    "line_item_line_item_type": pl.String, "line_item_product_code": pl.String, "line_item_usage_type": pl.String,
    "line_item_operation": pl.String, "line_item_resource_id": pl.String, "line_item_usage_account_id": pl.String,
    "line_item_usage_start_date": pl.Datetime("us"), "line_item_usage_end_date": pl.Datetime("us"),
    "line_item_usage_amount": pl.Float64, "line_item_unblended_cost": pl.Float64,
    "line_item_currency_code": pl.String, "pricing_unit": pl.String, "pricing_public_on_demand_cost": pl.Float64,
    "product": MAP, "resource_tags": MAP,
}


def billed_tokens(events: pl.DataFrame) -> pl.DataFrame:
    """The day's tokens per provider, logged model, region and token type, with list and billed cost."""
    rate = pl.col("token_type").replace_strict(LIST_RATES, return_dtype=pl.Float64)
    list_cost = pl.col("tokens").cast(pl.Float64) * rate / 1_000_000
    return (
        events.lazy()
        .filter(~pl.col("provider").is_in(SELF_HOSTED))
        .with_columns((pl.col("request_id").cast(pl.Int64).hash(99) % len(REGIONS)).alias("region_k"))
        .group_by("provider", "raw_model", "region_k")
        .agg(*(pl.col(c).sum().alias(t) for t, c in TOKENS.items()))
        .unpivot(index=["provider", "raw_model", "region_k"], on=list(TOKENS), variable_name="token_type",
                 value_name="tokens")
        .filter(pl.col("tokens") > 0)
        .with_columns(
            pl.col("region_k").replace_strict(dict(enumerate(REGIONS)), return_dtype=pl.String).alias("region"),
            list_cost.alias("list_usd"), (list_cost * (1 - INVOICE_DISCOUNT)).alias("billed_usd"))
        .sort("provider", "raw_model", "region", "token_type")
        .collect()
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _month_bounds(day: date) -> tuple[datetime, datetime]:
    start = _midnight(day.replace(day=1))
    return start, (start + timedelta(days=32)).replace(day=1)


def cur_lines(tokens: pl.DataFrame, day: date) -> pl.DataFrame:
    """AWS's lines of one day in CUR 2.0 columns: Bedrock tokens per model, region and token type, plus EC2, S3
    and (Sundays) an idle SageMaker endpoint."""
    period_start, period_end = _month_bounds(day)
    start = _midnight(day)
    bedrock = tokens.filter(pl.col("provider") == "aws.bedrock").select(
        pl.concat_str([pl.col("region").replace_strict(CUR_REGION_PREFIX), pl.lit("-"),
                       pl.col("raw_model").replace_strict(CUR_MODEL_NAMES), pl.lit("-"),
                       pl.col("token_type").replace_strict(CUR_TOKEN_SUFFIX)]).alias("usage_type"),
        pl.lit("AmazonBedrock").alias("code"), pl.lit("Amazon Bedrock").alias("product_name"), "region",
        (pl.col("tokens") / 1_000_000).alias("amount"), pl.lit("1M tokens").alias("unit"),
        pl.col("billed_usd").alias("cost"), pl.col("list_usd").alias("list_cost"),
    )
    other = [("BoxUsage:m6i.xlarge", "AmazonEC2", "Amazon Elastic Compute Cloud", 96.0, "Hrs", 0.192),
             ("TimedStorage-ByteHrs", "AmazonS3", "Amazon Simple Storage Service", 1_500.0, "GB-Mo", 0.023 / 30)]
    if day.isoweekday() == 7:
        other.append(("USE1-Host:ml.g5.xlarge", "AmazonSageMaker", "Amazon SageMaker", 24.0, "Hrs", 1.408))
    fixed = pl.DataFrame(
        [(u, c, p, "us-east-1", a, unit, a * r, a * r) for u, c, p, a, unit, r in other],
        schema=["usage_type", "code", "product_name", "region", "amount", "unit", "cost", "list_cost"], orient="row")
    lines = pl.concat([bedrock, fixed], how="vertical_relaxed")
    product = pl.concat_list([pl.struct(pl.lit("region").alias("key"), pl.col("region").alias("value")),
                              pl.struct(pl.lit("product_name").alias("key"), pl.col("product_name").alias("value"))])
    return lines.select(
        pl.lit(period_start).alias("bill_billing_period_start_date"),
        pl.lit(period_end).alias("bill_billing_period_end_date"),
        pl.lit(PAYER).alias("bill_payer_account_id"), pl.lit(None, pl.String).alias("bill_invoice_id"),
        pl.concat_str([pl.lit(f"{day}/"), pl.col("usage_type"), pl.lit("/"), pl.col("region")]).hash(7)
        .cast(pl.String).alias("identity_line_item_id"),
        pl.lit("Usage").alias("line_item_line_item_type"), pl.col("code").alias("line_item_product_code"),
        pl.col("usage_type").alias("line_item_usage_type"), pl.lit("InvokeModelInference").alias("line_item_operation"),
        pl.lit(None, pl.String).alias("line_item_resource_id"), pl.lit(USAGE_ACCOUNT).alias("line_item_usage_account_id"),
        pl.lit(start).alias("line_item_usage_start_date"),
        pl.lit(start + timedelta(days=1)).alias("line_item_usage_end_date"),
        pl.col("amount").alias("line_item_usage_amount"), pl.col("cost").alias("line_item_unblended_cost"),
        pl.lit("USD").alias("line_item_currency_code"), pl.col("unit").alias("pricing_unit"),
        pl.col("list_cost").alias("pricing_public_on_demand_cost"), product.alias("product"),
        pl.lit([], MAP).alias("resource_tags"),
    ).cast(CUR_SCHEMA)


def focus_lines(tokens: pl.DataFrame, day: date) -> pl.DataFrame:
    """The other providers' lines of one day in FOCUS 1.2 columns, with `biller` saying whose file they go to."""
    period_start, period_end = _month_bounds(day)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    billed = tokens.filter(pl.col("provider").is_in(list(BILLERS)))
    biller = pl.col("provider").replace_strict({p: b[0] for p, b in BILLERS.items()})
    provider_name = pl.col("provider").replace_strict({p: b[2] for p, b in BILLERS.items()})
    model = normalize_model(normalize_provider(pl.col("provider")), pl.col("raw_model"))
    out = billed.with_columns(
        biller.alias("biller"),
        pl.concat_str([pl.lit(f"{day}|"), pl.col("raw_model"), pl.lit("|"), pl.col("token_type"), pl.lit("|"),
                       pl.col("region")]).alias("x_line_id"),
        pl.concat_str([pl.lit("acct-"), biller]).alias("BillingAccountId"),
        pl.lit("Acme Corp").alias("BillingAccountName"), pl.lit("Billing Account").alias("BillingAccountType"),
        pl.lit("prod").alias("SubAccountId"), pl.lit("Production").alias("SubAccountName"),
        provider_name.alias("ProviderName"), provider_name.alias("PublisherName"),
        provider_name.alias("InvoiceIssuerName"), pl.lit(None, pl.String).alias("InvoiceId"),
        pl.lit(period_start.strftime(iso)).alias("BillingPeriodStart"),
        pl.lit(period_end.strftime(iso)).alias("BillingPeriodEnd"),
        pl.lit(_midnight(day).strftime(iso)).alias("ChargePeriodStart"),
        pl.lit((_midnight(day) + timedelta(days=1)).strftime(iso)).alias("ChargePeriodEnd"),
        pl.lit("Usage").alias("ChargeCategory"), pl.lit(None, pl.String).alias("ChargeClass"),
        pl.concat_str([pl.col("raw_model"), pl.lit(" "), pl.col("token_type"), pl.lit(" tokens")]).alias("ChargeDescription"),
        pl.lit("Usage-Based").alias("ChargeFrequency"), pl.lit("Standard").alias("PricingCategory"),
        pl.col("billed_usd").alias("BilledCost"), pl.col("billed_usd").alias("EffectiveCost"),
        pl.col("list_usd").alias("ListCost"), pl.col("billed_usd").alias("ContractedCost"),
        pl.lit("USD").alias("BillingCurrency"), pl.col("tokens").cast(pl.Float64).alias("ConsumedQuantity"),
        pl.lit("Tokens").alias("ConsumedUnit"), (pl.col("tokens") / 1e6).alias("PricingQuantity"),
        pl.lit("1M Tokens").alias("PricingUnit"),
        pl.col("provider").replace_strict({p: b[1] for p, b in BILLERS.items()}).alias("ServiceName"),
        pl.lit("AI and Machine Learning").alias("ServiceCategory"), pl.lit("Generative AI").alias("ServiceSubcategory"),
        pl.concat_str([pl.col("raw_model"), pl.lit("-"), pl.col("token_type")]).alias("SkuId"),
        pl.col("token_type").alias("SkuMeter"), pl.col("region").alias("RegionId"), pl.col("region").alias("RegionName"),
        pl.lit(None, pl.String).alias("ResourceId"), pl.lit(None, pl.String).alias("ResourceName"),
        pl.lit(None, pl.String).alias("ResourceType"), pl.lit("{}").alias("Tags"),
        model.alias("x_model"), pl.col("token_type").alias("x_token_type"),
    )
    return out.select("biller", *FOCUS_COLUMNS)


# ------------------------------------------------------------------------------------------------ files


def cur_data_path(root: Path, month: str, execution: str) -> Path:
    return root / "cur" / EXPORT / "data" / f"BILLING_PERIOD={month}" / execution / f"{EXPORT}-00001.snappy.parquet"


def cur_manifest_path(root: Path, month: str) -> Path:
    return root / "cur" / EXPORT / "metadata" / f"BILLING_PERIOD={month}" / f"{EXPORT}-Manifest.json"


def write_cur(root: Path, month: str, lines: pl.DataFrame, execution: str) -> list[Path]:
    """A month's delivery: the data file, then the manifest naming it (what AWS writes last)."""
    data = cur_data_path(root, month, execution)
    data.parent.mkdir(parents=True, exist_ok=True)
    lines.write_parquet(data, compression="snappy")
    manifest = cur_manifest_path(root, month)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    key = data.relative_to(root).as_posix()  # the bucket holds the export under the prefix cur/
    manifest.write_text(json.dumps({
        "version": "1.0", "exportName": EXPORT, "billingPeriod": month, "executionId": execution,
        "dataFiles": [f"s3://{BUCKET}/{key}"],
        "columns": [{"name": c, "type": "string"} for c in CUR_SCHEMA]}))
    return [data, manifest]


def write_focus(root: Path, month: str, lines: pl.DataFrame) -> list[Path]:
    folder = root / "focus"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for (biller,), frame in sorted(lines.partition_by("biller", as_dict=True).items()):
        path = folder / f"{biller}-focus-{month}.csv"
        frame.select(FOCUS_COLUMNS).write_csv(path, null_value="")
        written.append(path)
    return written


def listed_files(root: Path) -> list[Path]:
    """The CUR data files the newest manifest of each month lists (what the bill holds now)."""
    files = []
    for manifest in sorted((root / "cur").glob(f"{EXPORT}/metadata/BILLING_PERIOD=*/{EXPORT}-Manifest.json")):
        for uri in json.loads(manifest.read_text())["dataFiles"]:
            files.append(root / uri.split(f"s3://{BUCKET}/", 1)[1])
    return files


def redeliver(root: Path, month: str) -> list[Path]:
    """AWS restates `month`: every tenth line costs 3% more and a refund appears, in a new execution folder."""
    manifest = json.loads(cur_manifest_path(root, month).read_text())
    current = pl.read_parquet(root / manifest["dataFiles"][0].split(f"s3://{BUCKET}/", 1)[1])
    changed = pl.int_range(pl.len()) % 10 == 0
    restated = current.with_columns(
        *(pl.when(changed).then(pl.col(c) * REDELIVERY_CHANGE).otherwise(pl.col(c)).alias(c)
          for c in ("line_item_unblended_cost", "pricing_public_on_demand_cost")))
    refund = current.head(1).with_columns(
        pl.lit("refund-e2e").alias("identity_line_item_id"), pl.lit("Refund").alias("line_item_line_item_type"),
        pl.lit(0.0).alias("line_item_usage_amount"), pl.lit(-25.0).alias("line_item_unblended_cost"),
        pl.lit(None, pl.Float64).alias("pricing_public_on_demand_cost"))
    execution = f"exec-{int(manifest.get('executionId', 'exec-1').rsplit('-', 1)[1]) + 1}"
    return write_cur(root, month, pl.concat([restated, refund]), execution)


class MonthBills:
    """A month's lines wait here (a few hundred a day) until the month is complete, then are written."""

    def __init__(self, root: Path):
        self.root, self.month, self.cur, self.focus = root, None, [], []

    def add(self, day: date, events: pl.DataFrame) -> None:
        month = day.strftime("%Y-%m")
        if month != self.month:
            self.flush()
            self.month = month
        tokens = billed_tokens(events)
        self.cur.append(cur_lines(tokens, day))
        self.focus.append(focus_lines(tokens, day))

    def flush(self) -> None:
        if self.month is None:
            return
        write_cur(self.root, self.month, pl.concat(self.cur), "exec-1")
        write_focus(self.root, self.month, pl.concat(self.focus))
        self.month, self.cur, self.focus = None, [], []
