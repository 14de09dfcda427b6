"""The demo's FOCUS 1.2 invoices, derived from the same spans the logs hold, so the two reconcile.

Each provider bills, per day, model and token type, what the logs show plus a little the logs never saw (a
team without instrumentation), at genai-prices' rate (less a negotiated discount where one applies). AWS adds
non-AI services, a GPU instance, a monthly credit; closed months get their tax lines. Azure bills in euros: its
dollar prices at an ECB rate fixed for the month (`usd_per_unit`). Each export stops a few days before the logs
do (`Biller.invoice_lag_days`), as real exports trail usage.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta

import polars as pl

from pipelines.demo.catalog import (
    AWS_MONTHLY_CREDIT_USD,
    BILLERS,
    GENERAL_COMPUTE_HOURLY_USD,
    GENERAL_COMPUTE_INSTANCES,
    GPU_HOURLY_USD,
    MODELS,
    S3_GB_STORED,
    S3_USD_PER_GB_MONTH,
    UNINSTRUMENTED_MODELS,
    UNINSTRUMENTED_SHARE,
)
from pipelines.demo.rates import billed_rate
from pipelines.fx import ecb_rates
from pipelines.models import normalize_model, normalize_provider

FOCUS_COLUMNS = [
    "x_line_id", "BillingAccountId", "BillingAccountName", "BillingAccountType", "SubAccountId",
    "SubAccountName", "ProviderName", "PublisherName", "InvoiceIssuerName", "InvoiceId", "BillingPeriodStart",
    "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "PricingCategory", "BilledCost", "EffectiveCost", "ListCost",
    "ContractedCost", "BillingCurrency", "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit",
    "ServiceName", "ServiceCategory", "ServiceSubcategory", "SkuId", "SkuMeter", "RegionId", "RegionName",
    "ResourceId", "ResourceName", "ResourceType", "Tags", "x_model", "x_token_type",
]
_AWS_TOKEN_SUFFIX = {"input": "input-tokens", "output": "output-tokens",
                     "cache_read": "cache-read-input-token-count", "cache_write": "cache-write-input-token-count"}
_TOKEN_LABEL = {"input": "input tokens", "output": "output tokens", "cache_read": "cache read input tokens",
                "cache_write": "cache write input tokens"}
BATCH_DISCOUNT = 0.5


def _m(field: str) -> pl.Expr:
    return pl.col("model_key").replace_strict({k: getattr(m, field) for k, m in MODELS.items()},
                                              return_dtype=pl.String)


def raw_model() -> pl.Expr:
    """What a reader takes as the model: the response model, else (failed requests) the requested one."""
    return pl.when(pl.col("error_type").is_null()).then(_m("response_model")).otherwise(_m("request_model"))


def x_model(provider: pl.Expr, raw: pl.Expr) -> pl.Expr:
    return normalize_model(normalize_provider(provider), raw)


def logged_tokens(spans: pl.LazyFrame) -> pl.LazyFrame:
    """Tokens by day, model and token type, split the way invoices bill them (input excludes cache)."""
    cr = pl.col("cache_read_tokens").fill_null(0)
    cw = pl.col("cache_write_tokens").fill_null(0)
    return (
        spans.with_columns(raw_model().alias("raw_model"), _m("otel_provider").alias("otel_provider"))
        .with_columns(
            x_model(pl.col("otel_provider"), pl.col("raw_model")).alias("x_model"),
            (pl.col("input_tokens") - cr - cw).alias("input"),
            pl.col("output_tokens").alias("output"),
            cr.alias("cache_read"),
            cw.alias("cache_write"),
        )
        .unpivot(["input", "output", "cache_read", "cache_write"],
                 index=["day", "model_key", "otel_provider", "raw_model", "x_model", "is_batch"],
                 variable_name="token_type", value_name="tokens")
        .group_by("day", "model_key", "otel_provider", "raw_model", "x_model", "is_batch", "token_type")
        .agg(pl.col("tokens").sum())
        .filter(pl.col("tokens") > 0)
        .with_columns(pl.lit(False).alias("uninstrumented"))
    )


def uninstrumented_tokens(logged_cost_by_day: pl.DataFrame, rates: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Usage that only the invoice shows: ~4% of each day's logged cost, 4 input tokens per output token."""
    rng = random.Random(seed * 7919 + 17)
    rate = {(r["model_key"], r["day"], r["token_type"]): r["list_usd_per_mtok"] for r in rates.iter_rows(named=True)
            if r["model_key"] in UNINSTRUMENTED_MODELS}
    rows: dict[str, list] = {k: [] for k in ["day", "model_key", "token_type", "tokens"]}
    for day, cost in sorted(logged_cost_by_day.iter_rows()):
        target = cost * UNINSTRUMENTED_SHARE * rng.uniform(0.75, 1.25)
        for key, share in sorted(UNINSTRUMENTED_MODELS.items()):
            per_unit = (4 * rate[(key, day, "input")] + rate[(key, day, "output")]) / 1e6
            k = int(target * share / per_unit)
            for token_type, tokens in (("input", 4 * k), ("output", k)):
                if tokens > 0:
                    rows["day"].append(day)
                    rows["model_key"].append(key)
                    rows["token_type"].append(token_type)
                    rows["tokens"].append(tokens)
    frame = pl.DataFrame(rows, schema={"day": pl.Date, "model_key": pl.String, "token_type": pl.String,
                                       "tokens": pl.Int64})
    return frame.with_columns(
        _m("otel_provider").alias("otel_provider"),
        _m("response_model").alias("raw_model"),
        pl.lit(False).alias("is_batch"),
        pl.lit(True).alias("uninstrumented"),
    ).with_columns(x_model(pl.col("otel_provider"), pl.col("raw_model")).alias("x_model"))


def priced(tokens: pl.LazyFrame, rates: pl.LazyFrame, discount_from: date) -> pl.LazyFrame:
    factor = pl.when(pl.col("is_batch")).then(BATCH_DISCOUNT).otherwise(1.0)
    rate = billed_rate(pl.col("list_usd_per_mtok"), pl.col("model_key"), pl.col("day"), discount_from)
    return tokens.join(rates, on=["model_key", "day", "token_type"], how="left").with_columns(
        (pl.col("tokens") * pl.col("list_usd_per_mtok") / 1e6 * factor).alias("list_usd"),
        (pl.col("tokens") * rate / 1e6 * factor).alias("billed_usd"),
    )


def _iso(day: pl.Expr) -> pl.Expr:
    return day.dt.strftime("%Y-%m-%dT00:00:00Z")


def _month_start(day: pl.Expr) -> pl.Expr:
    return day.dt.truncate("1mo")


def _biller(field: str, key: pl.Expr) -> pl.Expr:
    def text(value) -> str:
        return "|".join(value) if isinstance(value, tuple) else value

    return key.replace_strict({k: text(getattr(b, field)) for k, b in BILLERS.items()}, return_dtype=pl.String)


def model_usage_lines(priced: pl.LazyFrame) -> pl.LazyFrame:
    """One invoice line per provider, account, day, model, token type and batch flag."""
    biller = _m("billing")
    un = pl.col("uninstrumented")
    meter = _m("meter")
    batch_tag = pl.when(pl.col("is_batch")).then(pl.lit("-batch")).otherwise(pl.lit(""))
    aws_sku = pl.concat_str([pl.lit("USE1-"), meter, pl.lit("-"),
                             pl.col("token_type").replace_strict(_AWS_TOKEN_SUFFIX, return_dtype=pl.String),
                             batch_tag])
    api_sku = pl.concat_str([_m("response_model"), pl.lit("-"), pl.col("token_type"), batch_tag])
    azure_sku = pl.concat_str([pl.lit("AOAI-"), meter.str.replace_all(" ", "-"), pl.lit("-"), pl.col("token_type"),
                               batch_tag])
    response = _m("response_model")
    resource = (pl.when(biller != "aws").then(pl.lit(None, pl.String))
                .when(response.str.starts_with("us."))
                .then(pl.concat_str([pl.lit("arn:aws:bedrock:us-east-1:444455556666:inference-profile/"),
                                     response]))
                .otherwise(pl.concat_str([pl.lit("arn:aws:bedrock:us-east-1::foundation-model/"), response])))
    grouped = priced.group_by(
        biller.alias("biller"), "day", "x_model", "token_type", "is_batch", "uninstrumented"
    ).agg(
        pl.col("model_key").min(),
        pl.col("raw_model").min(),
        pl.col("tokens").sum(),
        pl.col("list_usd").sum(),
        pl.col("billed_usd").sum(),
    )
    return grouped.select(
        pl.col("biller"),
        pl.col("day"),
        pl.when(un).then(_biller("uninstrumented_sub_account", pl.col("biller")).str.split("|").list.first())
        .otherwise(_biller("sub_account_id", pl.col("biller"))).alias("SubAccountId"),
        pl.when(un).then(_biller("uninstrumented_sub_account", pl.col("biller")).str.split("|").list.last())
        .otherwise(_biller("sub_account_name", pl.col("biller"))).alias("SubAccountName"),
        pl.when(pl.col("biller") == "aws").then(_m("publisher")).otherwise(_biller("provider_name", pl.col("biller")))
        .alias("PublisherName"),
        pl.lit("Usage").alias("ChargeCategory"),
        pl.concat_str([meter, pl.lit(" "), pl.col("token_type").replace_strict(_TOKEN_LABEL, return_dtype=pl.String),
                       pl.when(pl.col("is_batch")).then(pl.lit(" (batch)")).otherwise(pl.lit(""))])
        .alias("ChargeDescription"),
        pl.lit("Usage-Based").alias("ChargeFrequency"),
        pl.col("billed_usd").alias("BilledCost"),
        pl.col("billed_usd").alias("EffectiveCost"),
        pl.col("list_usd").alias("ListCost"),
        pl.col("tokens").cast(pl.Float64).alias("ConsumedQuantity"),
        pl.lit("Tokens").alias("ConsumedUnit"),
        (pl.col("tokens") / 1e6).alias("PricingQuantity"),
        pl.lit("1M Tokens").alias("PricingUnit"),
        _biller("service_name", pl.col("biller")).alias("ServiceName"),
        pl.lit("AI and Machine Learning").alias("ServiceCategory"),
        pl.lit("Generative AI").alias("ServiceSubcategory"),
        pl.when(pl.col("biller") == "aws").then(aws_sku).when(pl.col("biller") == "azure").then(azure_sku)
        .otherwise(api_sku).alias("SkuId"),
        pl.col("token_type").replace_strict(_TOKEN_LABEL, return_dtype=pl.String).alias("SkuMeter"),
        resource.alias("ResourceId"),
        pl.when(pl.col("biller") == "aws").then(response).alias("ResourceName"),
        pl.when(pl.col("biller") == "aws").then(pl.lit("Model")).alias("ResourceType"),
        pl.when(un).then(pl.lit('{"team":"data-science"}')).otherwise(pl.lit("{}")).alias("Tags"),
        pl.col("x_model"),
        pl.col("token_type").alias("x_token_type"),
    )


def _row(biller: str, day: date, **values) -> dict:
    return {"biller": biller, "day": day, **values}


def aws_other_lines(start: date, days: int) -> list[dict]:
    """EC2 and S3 every day, and a GPU instance running around the clock for a three-week stretch."""
    rows = []
    gpu_days = range(round(days * 0.3), round(days * 0.3) + max(1, min(21, days // 3)))
    for d in range(days):
        day = start + timedelta(days=d)
        hours = 24 * GENERAL_COMPUTE_INSTANCES
        rows.append(_row("aws", day, ChargeCategory="Usage", ChargeDescription=(
            f"${GENERAL_COMPUTE_HOURLY_USD} per On Demand Linux m6i.xlarge Instance Hour"),
            ChargeFrequency="Usage-Based", BilledCost=hours * GENERAL_COMPUTE_HOURLY_USD,
            ConsumedQuantity=float(hours), ConsumedUnit="Hours", PricingQuantity=float(hours), PricingUnit="Hours",
            ServiceName="Amazon Elastic Compute Cloud", ServiceCategory="Compute",
            ServiceSubcategory="Virtual Machines", SkuId="BoxUsage:m6i.xlarge",
            SkuMeter="BoxUsage:m6i.xlarge", ResourceType="Instance", ResourceId="web-fleet",
            Tags='{"team":"platform","app":"web"}'))
        gb_month = S3_GB_STORED / 30
        rows.append(_row("aws", day, ChargeCategory="Usage", ChargeDescription=(
            f"${S3_USD_PER_GB_MONTH} per GB - first 50 TB / month of storage used"),
            ChargeFrequency="Usage-Based", BilledCost=gb_month * S3_USD_PER_GB_MONTH, ConsumedQuantity=gb_month,
            ConsumedUnit="GB-Mo", PricingQuantity=gb_month, PricingUnit="GB-Mo",
            ServiceName="Amazon Simple Storage Service", ServiceCategory="Storage",
            ServiceSubcategory="Object Storage", SkuId="TimedStorage-ByteHrs",
            SkuMeter="TimedStorage-ByteHrs", ResourceType="Bucket", ResourceId="acme-data-lake",
            ResourceName="acme-data-lake", Tags='{"team":"data"}'))
        if d in gpu_days:
            rows.append(_row("aws", day, ChargeCategory="Usage", ChargeDescription=(
                f"${GPU_HOURLY_USD} per On Demand Linux g5.12xlarge Instance Hour"),
                ChargeFrequency="Usage-Based", BilledCost=24 * GPU_HOURLY_USD, ConsumedQuantity=24.0,
                ConsumedUnit="Hours", PricingQuantity=24.0, PricingUnit="Hours",
                ServiceName="Amazon Elastic Compute Cloud", ServiceCategory="Compute",
                ServiceSubcategory="Virtual Machines", SkuId="BoxUsage:g5.12xlarge", SkuMeter="BoxUsage:g5.12xlarge", ResourceType="Instance",
                ResourceId="i-0f3a9c5e7b2d41a68", ResourceName="llm-finetune-gpu",
                Tags='{"team":"data","purpose":"llm-finetune"}'))
    return rows


def _closed_months(start: date, end: date) -> list[date]:
    """Months inside the window that ended before `end`: only those have credits and tax posted."""
    months, m = [], start.replace(day=1)
    while True:
        nxt = (m + timedelta(days=32)).replace(day=1)
        if nxt > end:
            return months
        months.append(m)
        m = nxt


def month_end_lines(lines: pl.DataFrame, start: date, end: date) -> list[dict]:
    """A promotional AWS credit and each provider's tax, for every month that has closed."""
    rows = []
    totals = (lines.with_columns(_month_start(pl.col("day")).alias("month"))
              .group_by("biller", "month", "ServiceName").agg(pl.col("BilledCost").sum()))
    total = {(b, m, s): c for b, m, s, c in totals.iter_rows()}
    for month in _closed_months(start, end):
        aws_ai = total.get(("aws", month, "Amazon Bedrock"), 0.0)
        credit = -round(min(AWS_MONTHLY_CREDIT_USD, 0.3 * aws_ai), 2)
        if credit < 0:
            rows.append(_row("aws", month, ChargeCategory="Credit", ChargeDescription="AWS Activate promotional credit",
                             ChargeFrequency="One-Time", BilledCost=credit, ServiceName="Amazon Bedrock",
                             ServiceCategory="AI and Machine Learning", ServiceSubcategory="Generative AI",
                             SkuId="Credit-Activate", monthly=True))
        for (b, m, service), cost in sorted(total.items()):
            if m != month or BILLERS[b].tax_rate == 0:
                continue
            rows.append(_row(b, month, ChargeCategory="Tax", ChargeDescription="Sales tax (New York)",
                             ChargeFrequency="Recurring", BilledCost=round(cost * BILLERS[b].tax_rate, 2),
                             ServiceName=service, ServiceCategory="AI and Machine Learning",
                             ServiceSubcategory="Generative AI", SkuId="Tax", monthly=True))
    return rows


def delivered(lines: pl.DataFrame, end: date) -> pl.DataFrame:
    """The daily lines each provider's export holds by `end`: its last `invoice_lag_days` days are not in yet."""
    lag = pl.col("biller").replace_strict({k: b.invoice_lag_days for k, b in BILLERS.items()},
                                          return_dtype=pl.Int64)
    return lines.filter(pl.col("day") <= pl.lit(end) - pl.duration(days=lag))


def usd_per_unit(lines: pl.DataFrame) -> pl.DataFrame:
    """(biller, day, usd_per_unit): what one unit of the biller's currency is worth in dollars on its price list.

    A cloud billing in euros fixes its euro prices for a month: here the ECB's rate of the last published day
    before the month starts. The pipeline converts each day at that day's rate (docs/finance.md), so the euro
    bill and the logs' dollar prices differ by how far the rate moved within the month, as real ones do.
    """
    priced_on = pl.col("day").dt.truncate("1mo").dt.offset_by("-1d").alias("priced_on")
    pairs = (lines.select("biller", "day").unique()
             .with_columns(_biller("currency", pl.col("biller")).alias("currency"), priced_on)
             .sort("currency", "priced_on"))
    currencies = pairs["currency"].unique().to_list()
    ecb = (ecb_rates("USD").filter(pl.col("currency").is_in(currencies)).rename({"day": "priced_on"})
           .sort("currency", "priced_on"))
    out = pairs.join_asof(ecb, on="priced_on", by="currency", strategy="backward", check_sortedness=False)
    out = out.with_columns(pl.when(pl.col("currency") == "USD").then(1.0).otherwise(pl.col("rate"))
                           .alias("usd_per_unit"))
    if out["usd_per_unit"].null_count():
        raise LookupError("the bundled ECB rates do not reach back to the demo's first month")
    return out.select("biller", "day", "usd_per_unit")


def in_billing_currency(lines: pl.DataFrame) -> pl.DataFrame:
    """The dollar amounts of each line in its biller's currency."""
    money = ["BilledCost", "EffectiveCost", "ListCost"]
    return (lines.join(usd_per_unit(lines), on=["biller", "day"], how="left")
            .with_columns(pl.col(c) / pl.col("usd_per_unit") for c in money).drop("usd_per_unit"))


def billed_usd(lines: pl.DataFrame) -> pl.Series:
    """Each line's BilledCost in dollars (what a budget in the demo's USD config is set from)."""
    rates = usd_per_unit(lines)
    return lines.join(rates, on=["biller", "day"], how="left").select(
        pl.col("BilledCost") * pl.col("usd_per_unit"))["BilledCost"]


def _line_id(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:24]


def finish(lines: pl.DataFrame, end: date) -> pl.DataFrame:
    """Fill the columns every line shares, round the money, give each line a stable id, sort."""
    biller = pl.col("biller")
    month = _month_start(pl.col("day"))
    next_month = month.dt.offset_by("1mo")
    monthly = pl.col("monthly").fill_null(False)
    open_month = next_month > pl.lit(end)
    out = lines.with_columns(
        _biller("account_id", biller).alias("BillingAccountId"),
        _biller("account_name", biller).alias("BillingAccountName"),
        pl.lit("Billing Account").alias("BillingAccountType"),
        pl.col("SubAccountId").fill_null(_biller("sub_account_id", biller)),
        pl.col("SubAccountName").fill_null(_biller("sub_account_name", biller)),
        _biller("provider_name", biller).alias("ProviderName"),
        pl.col("PublisherName").fill_null(_biller("provider_name", biller)),
        _biller("provider_name", biller).alias("InvoiceIssuerName"),
        pl.when(open_month).then(pl.lit(None, pl.String))
        .otherwise(pl.concat_str([biller.str.to_uppercase(), pl.lit("-INV-"), month.dt.strftime("%Y%m")]))
        .alias("InvoiceId"),
        _iso(month).alias("BillingPeriodStart"),
        _iso(next_month).alias("BillingPeriodEnd"),
        pl.when(monthly).then(_iso(month)).otherwise(_iso(pl.col("day"))).alias("ChargePeriodStart"),
        pl.when(monthly).then(_iso(next_month)).otherwise(_iso(pl.col("day").dt.offset_by("1d")))
        .alias("ChargePeriodEnd"),
        pl.lit(None, pl.String).alias("ChargeClass"),
        pl.lit("Standard").alias("PricingCategory"),
        pl.col("BilledCost").round(10),
        pl.col("EffectiveCost").fill_null(pl.col("BilledCost")).round(10),
        pl.col("ListCost").fill_null(pl.col("BilledCost")).round(10),
        pl.col("BilledCost").round(10).alias("ContractedCost"),
        _biller("currency", biller).alias("BillingCurrency"),
        pl.when(_biller("region_id", biller) != "").then(_biller("region_id", biller)).alias("RegionId"),
        pl.when(_biller("region_id", biller) != "").then(_biller("region_name", biller)).alias("RegionName"),
        pl.col("Tags").fill_null("{}"),
    )
    key = pl.concat_str([biller, pl.col("ChargePeriodStart"), pl.col("ChargeCategory"), pl.col("ServiceName"),
                         pl.col("SkuId"), pl.col("SubAccountId"), pl.col("x_model").fill_null("")], separator="|")
    out = out.with_columns(key.alias("_key")).sort("_key")
    if out["_key"].is_duplicated().any():
        raise AssertionError("demo invoice lines are not unique")
    ids = pl.Series("x_line_id", [_line_id(k) for k in out["_key"]], dtype=pl.String)
    return out.with_columns(ids).select("biller", "day", *FOCUS_COLUMNS)


def other_lines_frame(rows: list[dict]) -> pl.DataFrame:
    schema = {"biller": pl.String, "day": pl.Date, "monthly": pl.Boolean, "ChargeCategory": pl.String,
              "ChargeDescription": pl.String, "ChargeFrequency": pl.String, "BilledCost": pl.Float64,
              "ConsumedQuantity": pl.Float64, "ConsumedUnit": pl.String, "PricingQuantity": pl.Float64,
              "PricingUnit": pl.String, "ServiceName": pl.String, "ServiceCategory": pl.String,
              "ServiceSubcategory": pl.String, "SkuId": pl.String, "SkuMeter": pl.String, "ResourceId": pl.String,
              "ResourceName": pl.String, "ResourceType": pl.String, "Tags": pl.String}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row")
