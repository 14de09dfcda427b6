"""One CUR data file (CUR 2.0 Parquet or CSV.gz, legacy CSV.gz, or AWS's FOCUS export in the Data Exports
layout) as cost_lines rows, in FOCUS columns: the reading half of the `aws_cur` kind (pipelines/sources/aws_cur.py
finds the files a billing period's newest manifest lists; docs/sources/aws_cur.md).

Money follows the CUR amortization rules: BilledCost is the unblended (cash) cost; EffectiveCost spreads
commitments (Savings Plans, reservations) over the usage they cover. Split-cost-allocation rows (EKSPod-EC2,
ECSTask-EC2) repeat cost already on the instance lines, so they are dropped and counted in the log.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

import polars as pl

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.schemas import COST_LINES, conform
from pipelines.sources import aws_usage_types as ut
from pipelines.sources.bounds import refuse_bad_values
from pipelines.sources.common import ISO_4217, blank_to_null, check, read_table, to_utc

log = logging.getLogger(__name__)

SPLIT_COST_OPERATIONS = ["EKSPod-EC2", "ECSTask-EC2"]
ROW = "__row"  # a data file's own row number, kept through the mapping so a bad value is named by it
# The CUR column a FOCUS column comes from, to name it when its value is out of bounds.
CUR_FIELDS = {"BilledCost": "line_item_unblended_cost", "EffectiveCost": "line_item_unblended_cost",
              "ListCost": "pricing_public_on_demand_cost", "ConsumedQuantity": "line_item_usage_amount",
              "PricingQuantity": "line_item_usage_amount", "ChargePeriodStart": "line_item_usage_start_date",
              "ChargePeriodEnd": "line_item_usage_end_date", "BillingPeriodStart": "bill_billing_period_start_date",
              "BillingPeriodEnd": "bill_billing_period_end_date"}

REQUIRED = [
    "identity_line_item_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_unblended_cost",
    "line_item_currency_code",
]
# Costs must be numbers: text that silently became NULL would undercount spend.
MONEY = [
    "line_item_unblended_cost",
    "pricing_public_on_demand_cost",
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "reservation_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
    "line_item_usage_amount",
]
TIMES = [
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
]
# The columns each amortized line type needs; a file holding such lines without them cannot be amortized.
AMORTIZATION_COLUMNS = {
    "SavingsPlanCoveredUsage": ["savings_plan_savings_plan_effective_cost"],
    "SavingsPlanRecurringFee": ["savings_plan_total_commitment_to_date", "savings_plan_used_commitment"],
    "DiscountedUsage": ["reservation_effective_cost"],
    "RIFee": ["reservation_unused_amortized_upfront_fee_for_billing_period", "reservation_unused_recurring_fee"],
}
USAGE_TYPES = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation"]
PURCHASE_TYPES = ["Fee", "RIFee", "SavingsPlanUpfrontFee", "SavingsPlanRecurringFee"]
CREDIT_TYPES = ["Credit", "Refund", "EdpDiscount", "BundledDiscount", "PrivateRateDiscount", "SppDiscount",
                "DistributorDiscount", "RiVolumeDiscount"]


def read_file(path: str, source: SourceConfig, data: bytes, period_start: datetime | None = None) -> pl.DataFrame:
    """One CUR data file (CUR 2.0 Parquet or CSV.gz, or legacy CSV.gz) as cost_lines rows."""
    raw = read_table(path, data, "a CUR data file", null_values=None)
    if "BilledCost" in raw.columns:  # AWS's FOCUS export, delivered in the Data Exports layout
        return _focus_file(path, source, data, period_start)
    flat = _flatten(raw)
    missing = [c for c in REQUIRED if c not in flat.columns]
    if missing:
        raise SourceError(path, f"missing required CUR column(s): {', '.join(missing)}", column=missing[0])
    typed = _typed(flat)
    _validate(flat, typed, path, period_start)
    split = typed.select(_is_split_cost_row(typed.schema).sum()).item()
    if split:
        log.info("%s: dropped %d split-cost-allocation rows (EKSPod-EC2/ECSTask-EC2): not counted twice", path, split)
    kept = typed.with_row_index(ROW, offset=1).lazy().filter(~_is_split_cost_row(typed.schema))
    lines = focus_columns(kept, source.name, path, period_start).collect()
    out = conform(lines, COST_LINES)
    refuse_bad_values(out, "cost_lines", path, rows=lines[ROW], names=CUR_FIELDS)  # the file's rows
    return out


def _focus_file(path: str, source: SourceConfig, data: bytes, period_start: datetime | None) -> pl.DataFrame:
    from pipelines.sources import focus

    out = focus.read(path, source.model_copy(update={"options": focus.FocusOptions()}), data=data)
    refuse_bad_values(out, "cost_lines", path)  # named by this file's rows, before the delivery's files are joined
    if period_start is None:
        return out
    check(out, pl.col("BillingPeriodStart").dt.truncate("1d") != pl.lit(period_start), path,
          f"line belongs to another billing period than the manifest's ({period_start:%Y-%m}): {{value}}",
          column="BillingPeriodStart")
    return out.with_columns(pl.col("BillingPeriodStart").fill_null(pl.lit(period_start).cast(pl.Datetime("us"))))


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    name = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return name.lower()


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Both formats as CUR 2.0 snake_case columns plus `_product_name`, `_region` and `_tags` (JSON text)."""
    if any("/" in c for c in frame.columns):
        return _flatten_legacy(frame)
    schema = frame.schema
    product_name = pl.coalesce(_map_get("product", schema, "product_name"), _opt("product_product_name", schema),
                               _opt("product_servicename", schema))
    region = pl.coalesce(_map_get("product", schema, "region"), _opt("product_region", schema),
                         _opt("product_region_code", schema))
    return frame.with_columns(
        [_as_text(c, schema) for c in frame.columns if c not in ("product", "resource_tags", "tags",
                                                                  "cost_category", "discount")]
        + [product_name.alias("_product_name"), region.alias("_region"), _map_json("resource_tags", schema).alias("_tags")]
    )


def _flatten_legacy(frame: pl.DataFrame) -> pl.DataFrame:
    """Legacy `lineItem/UsageType` headers: categories and fields to snake_case, `product/*` to the map keys CUR
    2.0 uses, `resourceTags/*` to one JSON object."""
    renames, tags = {}, []
    for col in frame.columns:
        category, _, field = col.partition("/")
        if category == "resourceTags":
            tags.append(col)
        elif field:
            renames[col] = f"{_snake(category)}_{_snake(field)}"
    out = frame.rename(renames)
    schema = out.schema
    product_name = pl.coalesce(_opt("product_product_name", schema), _opt("product_servicename", schema))
    region = pl.coalesce(_opt("product_region", schema), _opt("product_region_code", schema))
    pairs = [pl.struct(pl.lit(c.split("/", 1)[1]).alias("key"), blank_to_null(pl.col(c)).alias("value"))
             for c in tags]
    tag_json = _kv_json(pl.concat_list(pairs)) if pairs else pl.lit(None, pl.String)
    return out.with_columns(
        [blank_to_null(pl.col(c)).alias(c) for c in out.columns],
    ).with_columns(product_name.alias("_product_name"), region.alias("_region"), tag_json.alias("_tags"))


def _opt(name: str, schema: pl.Schema) -> pl.Expr:
    if name not in schema:
        return pl.lit(None, pl.String)
    return blank_to_null(pl.col(name).cast(pl.String))


def _as_text(name: str, schema: pl.Schema) -> pl.Expr:
    """Text columns cleaned of null spellings; typed Parquet columns pass through."""
    if schema[name] == pl.String:
        return blank_to_null(pl.col(name)).alias(name)
    return pl.col(name)


def _is_kv_list(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct) and \
        {f.name for f in dtype.inner.fields} >= {"key", "value"}


def _map_get(name: str, schema: pl.Schema, key: str) -> pl.Expr:
    """One key of a CUR 2.0 map column: Parquet MAP (a list of key/value structs), or JSON text in CSV."""
    if name not in schema:
        return pl.lit(None, pl.String)
    dtype = schema[name]
    if _is_kv_list(dtype):
        return blank_to_null(
            pl.col(name).list.eval(
                pl.element().filter(pl.element().struct.field("key") == key).struct.field("value")
            ).list.first().cast(pl.String)
        )
    if isinstance(dtype, pl.Struct):
        return pl.col(name).struct.field(key).cast(pl.String) if key in {f.name for f in dtype.fields} \
            else pl.lit(None, pl.String)
    return blank_to_null(pl.col(name).cast(pl.String).str.json_path_match(f"$.{key}"))


def _kv_json(pairs: pl.Expr) -> pl.Expr:
    """A list of {key, value} structs as one JSON object text (entries with NULL values left out)."""
    encoded = pairs.list.eval(
        pl.element()
        .filter(pl.element().struct.field("value").is_not_null())
        .struct.json_encode()
        .str.replace(r'^\{"key":("(?:[^"\\]|\\.)*"),"value":(.*)\}$', "${1}:${2}")
    )
    return pl.when(encoded.list.len() > 0).then(pl.lit("{") + encoded.list.join(",") + pl.lit("}"))


def _map_json(name: str, schema: pl.Schema) -> pl.Expr:
    if name not in schema:
        return pl.lit(None, pl.String)
    dtype = schema[name]
    if _is_kv_list(dtype):
        return _kv_json(pl.col(name).list.eval(pl.struct(
            pl.element().struct.field("key").cast(pl.String).alias("key"),
            pl.element().struct.field("value").cast(pl.String).alias("value"),
        )))
    if isinstance(dtype, pl.Struct):
        return pl.col(name).struct.json_encode()
    text = blank_to_null(pl.col(name).cast(pl.String))
    return pl.when(text != "{}").then(text)


def _typed(flat: pl.DataFrame) -> pl.DataFrame:
    schema = flat.schema
    exprs = []
    for name in MONEY:
        if name in schema:
            source = pl.col(name).cast(pl.String).str.strip_chars() if schema[name] == pl.String else pl.col(name)
            exprs.append(source.cast(pl.Float64, strict=False).alias(name))
    for name in TIMES:
        if name in schema:
            exprs.append(to_utc(pl.col(name), schema[name]).alias(name))
    exprs.append(pl.col("line_item_currency_code").cast(pl.String).str.strip_chars().str.to_uppercase())
    return flat.with_columns(exprs)


def _validate(flat: pl.DataFrame, typed: pl.DataFrame, path: str, period_start: datetime | None) -> None:
    for name in MONEY + TIMES:
        if name in flat.columns and flat.schema[name] == pl.String:  # typed Parquet columns cannot fail to parse
            kind = "a timestamp" if name in TIMES else "a number"
            shown = pl.DataFrame({name: flat[name].cast(pl.String), "__parsed": typed[name]})
            check(shown, pl.col(name).is_not_null() & pl.col("__parsed").is_null(), path,
                  f"not {kind}: {{value}}", column=name)
    for name in ["identity_line_item_id", "line_item_line_item_type", "line_item_usage_start_date",
                 "line_item_unblended_cost"]:
        check(typed, pl.col(name).is_null(), path, "missing value (every CUR line has one)", column=name)
    check(typed, pl.col("line_item_currency_code").is_null(), path, "missing currency",
          column="line_item_currency_code")
    check(typed, ~pl.col("line_item_currency_code").is_in(sorted(ISO_4217)), path,
          "unknown currency {value} (expected an ISO 4217 code such as USD)", column="line_item_currency_code")
    types = set(typed["line_item_line_item_type"].unique().drop_nulls().to_list())
    for line_type, needed in AMORTIZATION_COLUMNS.items():
        absent = [c for c in needed if c not in typed.columns]
        if line_type in types and absent:
            raise SourceError(path, f"{line_type} lines need {', '.join(absent)} to compute EffectiveCost",
                              column=absent[0])
    if period_start is not None and "bill_billing_period_start_date" in typed.columns:
        # A line of another month would survive that month's replacement and be counted twice.
        other = pl.col("bill_billing_period_start_date").dt.truncate("1d") != pl.lit(period_start)
        check(typed, other, path, f"line belongs to another billing period than the manifest's "
                                  f"({period_start:%Y-%m}): {{value}}", column="bill_billing_period_start_date")


def _is_split_cost_row(schema: pl.Schema) -> pl.Expr:
    if "line_item_operation" not in schema:
        return pl.lit(False)
    return pl.col("line_item_operation").is_in(SPLIT_COST_OPERATIONS).fill_null(False)


def refuse_duplicate_ids(frame: pl.DataFrame, location: str) -> None:
    repeat = pl.int_range(pl.len()).over("x_line_id") > 0
    row = frame.select(repeat.arg_true().first()).item()
    if row is not None:
        dup = frame.row(int(row), named=True)
        raise SourceError(dup["x_source_file"] or location,
                          f"duplicate line (identity_line_item_id and usage start {dup['x_line_id']!r} already "
                          "seen in this delivery)", column="identity_line_item_id")


# ---------------------------------------------------------------------------------------------------------
# FOCUS mapping (pure expressions over the typed, flattened columns)


def _col(name: str, schema: pl.Schema, dtype: pl.DataType = pl.String) -> pl.Expr:
    return pl.col(name) if name in schema else pl.lit(None, dtype)


def _money(name: str, schema: pl.Schema) -> pl.Expr:
    return (pl.col(name) if name in schema else pl.lit(None, pl.Float64)).fill_null(0.0)


def effective_cost(schema: pl.Schema) -> pl.Expr:
    """Amortized cost per line (FORMATS.md): commitments spread over the usage they cover."""
    line_type = pl.col("line_item_line_item_type")
    return (
        pl.when(line_type == "SavingsPlanCoveredUsage").then(_money("savings_plan_savings_plan_effective_cost", schema))
        .when(line_type == "SavingsPlanRecurringFee").then(
            _money("savings_plan_total_commitment_to_date", schema) - _money("savings_plan_used_commitment", schema))
        .when(line_type.is_in(["SavingsPlanNegation", "SavingsPlanUpfrontFee"])).then(pl.lit(0.0))
        .when(line_type == "DiscountedUsage").then(_money("reservation_effective_cost", schema))
        .when(line_type == "RIFee").then(
            _money("reservation_unused_amortized_upfront_fee_for_billing_period", schema)
            + _money("reservation_unused_recurring_fee", schema))
        .otherwise(pl.col("line_item_unblended_cost"))
    )


def charge_category() -> pl.Expr:
    """Refunds are Credit (money AWS gives back, like credits); unknown new line types are Adjustment."""
    line_type = pl.col("line_item_line_item_type")
    return (
        pl.when(line_type.is_in(USAGE_TYPES)).then(pl.lit("Usage"))
        .when(line_type.is_in(PURCHASE_TYPES)).then(pl.lit("Purchase"))
        .when(line_type == "Tax").then(pl.lit("Tax"))
        .when(line_type.is_in(CREDIT_TYPES) | line_type.str.ends_with("Discount")).then(pl.lit("Credit"))
        .otherwise(pl.lit("Adjustment"))
    )


def charge_class(period_start: pl.Expr) -> pl.Expr:
    """`Correction` for a line charged in this bill for usage of an earlier period (e.g. a late refund)."""
    return pl.when(pl.col("line_item_usage_start_date") < period_start).then(pl.lit("Correction"))


def charge_frequency() -> pl.Expr:
    line_type = pl.col("line_item_line_item_type")
    return (
        pl.when(line_type.is_in(USAGE_TYPES)).then(pl.lit("Usage-Based"))
        .when(line_type.is_in(["RIFee", "SavingsPlanRecurringFee"])).then(pl.lit("Recurring"))
        .otherwise(pl.lit("One-Time"))
    )


def pricing_category() -> pl.Expr:
    line_type = pl.col("line_item_line_item_type")
    return (
        pl.when(line_type.is_in(["DiscountedUsage", "SavingsPlanCoveredUsage"])).then(pl.lit("Committed"))
        .when((line_type == "Usage") & pl.col("line_item_usage_type").str.contains("SpotUsage")).then(pl.lit("Dynamic"))
        .when(line_type == "Usage").then(pl.lit("Standard"))
    )


_AI_KEYS = ["line_item_product_code", "line_item_usage_type", "_product_name", "_pricing_unit"]


def focus_columns(lf: pl.LazyFrame, source_name: str, path: str, period_start: datetime | None) -> pl.LazyFrame:
    """The FOCUS columns of CUR lines, beside the lines' own columns (the caller conforms them)."""
    schema = lf.collect_schema()
    lf = lf.with_columns(_col("pricing_unit", schema).alias("_pricing_unit"))
    ai = ut.classify(lf.select(_AI_KEYS).unique(), *_AI_KEYS)
    lf = lf.join(ai, on=_AI_KEYS, how="left", nulls_equal=True)
    product_code = pl.col("line_item_product_code")
    per_unit = pl.col("tokens_per_unit")
    bill_start = _col("bill_billing_period_start_date", schema, pl.Datetime("us"))
    period = pl.lit(period_start).cast(pl.Datetime("us")) if period_start is not None else bill_start
    bill_end = _col("bill_billing_period_end_date", schema, pl.Datetime("us"))
    usage = pl.col("line_item_line_item_type").is_in(USAGE_TYPES)
    sp_arn = pl.coalesce(_col("savings_plan_savings_plan_a_r_n", schema), _col("savings_plan_savings_plan_arn", schema))
    ri_arn = pl.coalesce(_col("reservation_reservation_a_r_n", schema), _col("reservation_reservation_arn", schema),
                         _col("reservation_subscription_id", schema))
    amount = _col("line_item_usage_amount", schema, pl.Float64)

    return lf.with_columns(
        (pl.col("identity_line_item_id") + "|"
         + pl.col("line_item_usage_start_date").dt.strftime("%Y-%m-%dT%H:%M:%S")).alias("x_line_id"),
        _col("bill_payer_account_id", schema).alias("BillingAccountId"),
        _col("bill_payer_account_name", schema).alias("BillingAccountName"),
        _col("line_item_usage_account_id", schema).alias("SubAccountId"),
        _col("line_item_usage_account_name", schema).alias("SubAccountName"),
        pl.lit("AWS").alias("ProviderName"),
        pl.coalesce(_col("bill_billing_entity", schema), pl.lit("AWS")).alias("PublisherName"),
        _col("bill_invoicing_entity", schema).alias("InvoiceIssuerName"),
        _col("bill_invoice_id", schema).alias("InvoiceId"),
        period.alias("BillingPeriodStart"),
        pl.coalesce(bill_end, period.dt.offset_by("1mo")).alias("BillingPeriodEnd"),
        pl.col("line_item_usage_start_date").alias("ChargePeriodStart"),
        pl.col("line_item_usage_end_date").alias("ChargePeriodEnd"),
        charge_category().alias("ChargeCategory"),
        charge_class(period).alias("ChargeClass"),
        _col("line_item_line_item_description", schema).alias("ChargeDescription"),
        charge_frequency().alias("ChargeFrequency"),
        pricing_category().alias("PricingCategory"),
        pl.col("line_item_unblended_cost").alias("BilledCost"),
        effective_cost(schema).alias("EffectiveCost"),
        _col("pricing_public_on_demand_cost", schema, pl.Float64).alias("ListCost"),
        pl.col("line_item_currency_code").alias("BillingCurrency"),
        pl.when(usage).then(amount * per_unit.fill_null(1.0)).alias("ConsumedQuantity"),
        pl.when(usage).then(pl.when(per_unit.is_not_null()).then(pl.lit("Tokens"))
                            .otherwise(pl.col("_pricing_unit"))).alias("ConsumedUnit"),
        amount.alias("PricingQuantity"),
        pl.col("_pricing_unit").alias("PricingUnit"),
        pl.coalesce(pl.col("_product_name"), product_code).alias("ServiceName"),
        pl.col("line_item_usage_type").alias("SkuId"),
        _col("product_sku", schema).alias("SkuPriceId"),
        _col("line_item_operation", schema).alias("SkuMeter"),
        pl.col("_region").alias("RegionId"),
        _col("line_item_availability_zone", schema).alias("AvailabilityZone"),
        _col("line_item_resource_id", schema).alias("ResourceId"),
        pl.coalesce(sp_arn, ri_arn).alias("CommitmentDiscountId"),
        pl.when(sp_arn.is_not_null()).then(pl.lit("Savings Plan"))
        .when(ri_arn.is_not_null()).then(pl.lit("Reservation")).alias("CommitmentDiscountType"),
        pl.when(pl.col("line_item_line_item_type").is_in(["DiscountedUsage", "SavingsPlanCoveredUsage"]))
        .then(pl.lit("Used")).alias("CommitmentDiscountStatus"),
        pl.col("_tags").alias("Tags"),
        pl.col("x_ai_category").is_not_null().alias("x_is_ai"),
        pl.lit(source_name).alias("x_source"),
        pl.lit(path).alias("x_source_file"),
    )


