"""Azure EA / MCA cost-details exports (actual or amortized) into cost_lines, in FOCUS columns.

Azure writes actual (cash) and amortized cost as two separate exports with the same columns, so one file says
one cost figure: an actual export fills BilledCost, an amortized export fills EffectiveCost, and the other
stays NULL. They are never added; load both exports as two sources to have both figures.

Which one a file is: option `cost_view: actual | amortized`, else the file name (`...ActualCost...`,
`...AmortizedCost...`, `actual`, `amortized`), else the file is refused (guessing would put amortized
money in the billed column).

Real exports differ by agreement and age: EA writes `Cost` or `CostInBillingCurrency`, `BillingCurrency` or
`BillingCurrencyCode`; MCA writes camelCase names; dates are `MM/DD/YYYY`, `M/D/YYYY` or ISO; files start
with a BOM; Tags are `"k": "v"` pairs without the outer braces. Options:
  cost_view:   actual | amortized (see above)
  date_format: strftime format of Date columns when it is none of the above (e.g. `%d/%m/%Y`)
"""

from __future__ import annotations

from typing import Literal

import duckdb
import polars as pl
from pydantic import Field, field_validator

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.schemas import COST_LINES, conform
from pipelines.sources.ai_lines import with_ai_columns
from pipelines.sources.spec import FileOptions, SourceSpec
from pipelines.sources.bounds import refuse_bad_values
from pipelines.sources.common import ISO_4217, blank_to_null, check, read_table

COST_VIEWS = ("actual", "amortized")
# First present wins.
COST_COLUMNS = ["CostInBillingCurrency", "Cost", "PreTaxCost"]
CURRENCY_COLUMNS = ["BillingCurrencyCode", "BillingCurrency", "Currency"]
DATE_FORMATS = ["%m/%d/%Y", "%Y-%m-%d"]

# Azure ChargeType -> FOCUS ChargeCategory, ChargeClass (Microsoft's FOCUS conversion guidance: unused
# commitments are Usage, refunds are corrections of the purchase they refund, rounding is an adjustment).
CHARGE_TYPES = {
    "usage": ("Usage", None),
    "purchase": ("Purchase", None),
    "tax": ("Tax", None),
    "refund": ("Purchase", "Correction"),
    "unusedreservation": ("Usage", None),
    "unusedsavingsplan": ("Usage", None),
    "roundingadjustment": ("Adjustment", None),
    "adjustment": ("Adjustment", None),
    "credit": ("Credit", None),
}
FREQUENCIES = {"onetime": "One-Time", "recurring": "Recurring", "usagebased": "Usage-Based"}
PRICING_MODELS = {"ondemand": "Standard", "reservation": "Committed", "savingsplan": "Committed", "spot": "Dynamic"}
COMMITMENT_TYPES = {"reservation": "Reservation", "savingsplan": "Savings Plan"}

# Columns read, by their canonical spelling (headers match case-insensitively: MCA writes camelCase).
KNOWN = [
    *COST_COLUMNS, *CURRENCY_COLUMNS, "Date", "ChargeType", "BillingAccountId", "BillingAccountName",
    "BillingPeriodStartDate", "BillingPeriodEndDate", "SubscriptionId", "SubscriptionName", "MeterCategory",
    "MeterSubCategory", "ConsumedService", "MeterId", "MeterName", "MeterRegion", "Quantity", "UnitOfMeasure",
    "ResourceLocation", "ResourceId", "ResourceName", "Tags", "Product", "ProductName", "PublisherName",
    "Frequency", "PricingModel", "AvailabilityZone", "benefitId", "benefitName", "ReservationId", "PayGPrice",
    "InvoiceId", "PartNumber",
]
_KNOWN = {name.lower(): name for name in KNOWN}


class AzureEaOptions(FileOptions):
    cost_view: Literal["actual", "amortized"] | None = Field(
        default=None, description="which cost the export holds; default: told by the file name")
    date_format: str | None = Field(default=None, description="strftime format of the Date columns, e.g. %d/%m/%Y")

    @field_validator("cost_view", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def read(path: str, source: SourceConfig, data: bytes | None = None) -> pl.DataFrame:
    view = cost_view(path, source.options)
    raw = _canonical_headers(read_table(path, data, "an Azure EA source", parquet=False,
                                        canonical=lambda header: _KNOWN.get(header.strip().lower())))
    cost_col = _first(raw, COST_COLUMNS, path, "cost column")
    currency_col = _first(raw, CURRENCY_COLUMNS, path, "currency column")
    for required in ("Date", "ChargeType"):
        if required not in raw.columns:
            raise SourceError(path, f"missing required column {required}", column=required)
    text = raw.select([blank_to_null(pl.col(c)).alias(c) for c in raw.columns])
    date_format = source.options.date_format
    typed = text.with_columns(
        _number(cost_col).alias("__cost"),
        _number("Quantity").alias("__quantity") if "Quantity" in text.columns else pl.lit(None, pl.Float64).alias("__quantity"),
        _number("PayGPrice").alias("__payg") if "PayGPrice" in text.columns else pl.lit(None, pl.Float64).alias("__payg"),
        pl.col(currency_col).str.to_uppercase().alias("__currency"),
        _date("Date", date_format).alias("__date"),
        *[_date(c, date_format).alias(f"__{c}") for c in ("BillingPeriodStartDate", "BillingPeriodEndDate") if c in text.columns],
        pl.col("ChargeType").str.to_lowercase().alias("__charge_type"),
    )
    _validate(text, typed, path, cost_col, currency_col)
    out = typed.select(
        pl.lit(_line_ids(raw, view)).alias("x_line_id"),
        *_focus_columns(typed, view, path, source.name),
    )
    check_tags(out, path)
    lines = with_ai_columns(conform(out, COST_LINES))
    period = {f"BillingPeriod{e}": f"BillingPeriod{e}Date" if f"BillingPeriod{e}Date" in raw.columns else "Date"
              for e in ("Start", "End")}  # a period without its own columns is the Date's month
    refuse_bad_values(lines, "cost_lines", path, names={
        "BilledCost": cost_col, "EffectiveCost": cost_col, "ListCost": "PayGPrice", "ConsumedQuantity": "Quantity",
        "PricingQuantity": "Quantity", "ChargePeriodStart": "Date", "ChargePeriodEnd": "Date", **period})
    return lines


def cost_view(path: str, options: AzureEaOptions) -> str:
    if options.cost_view is not None:
        return options.cost_view
    name = path.rsplit("/", 1)[-1].lower()
    found = [v for v in COST_VIEWS if v in name]
    if len(found) != 1:
        raise SourceError(
            path, "cannot tell an actual from an amortized export by the file name: set the source option cost_view"
        )
    return found[0]


def _canonical_headers(frame: pl.DataFrame) -> pl.DataFrame:
    renames = {c: _KNOWN[c.strip().lower()] for c in frame.columns if _KNOWN.get(c.strip().lower(), c) != c}
    return frame.rename(renames) if renames else frame


def _first(frame: pl.DataFrame, names: list[str], path: str, what: str) -> str:
    found = next((n for n in names if n in frame.columns), None)
    if found is None:
        raise SourceError(path, f"missing {what} (expected one of {', '.join(names)})", column=names[0])
    return found


def _number(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64, strict=False)


def _date(name: str, date_format: str | None) -> pl.Expr:
    text = pl.col(name).str.replace(r"^(\d{4}-\d{2}-\d{2})[T ].*$", "${1}")
    formats = [date_format] if date_format else DATE_FORMATS
    return pl.coalesce([text.str.to_date(f, strict=False) for f in formats])


def _validate(text: pl.DataFrame, typed: pl.DataFrame, path: str, cost_col: str, currency_col: str) -> None:
    def parsed(col: str, parsed_col: str, what: str) -> None:
        shown = pl.DataFrame({col: text[col], "__p": typed[parsed_col]})
        check(shown, pl.col(col).is_not_null() & pl.col("__p").is_null(), path, f"not {what}: {{value}}", column=col)

    parsed(cost_col, "__cost", "a number")
    check(text, pl.col(cost_col).is_null(), path, "missing cost", column=cost_col)
    for col in ("Quantity", "PayGPrice"):
        if col in text.columns:
            parsed(col, f"__{col.lower()}" if col == "Quantity" else "__payg", "a number")
    parsed("Date", "__date", "a date")
    check(text, pl.col("Date").is_null(), path, "missing date", column="Date")
    for col in ("BillingPeriodStartDate", "BillingPeriodEndDate"):
        if col in text.columns:
            parsed(col, f"__{col}", "a date")
    shown = text.with_columns(typed["__currency"].alias(currency_col))
    check(shown, pl.col(currency_col).is_null(), path, "missing currency", column=currency_col)
    check(
        shown,
        ~pl.col(currency_col).is_in(sorted(ISO_4217)),
        path,
        "unknown currency {value} (expected an ISO 4217 code such as USD)",
        column=currency_col,
    )
    check(text, pl.col("ChargeType").is_null(), path, "missing charge type", column="ChargeType")
    check(
        text,
        ~pl.col("ChargeType").str.to_lowercase().is_in(list(CHARGE_TYPES)),
        path,
        "unknown charge type {value}",
        column="ChargeType",
    )


def _col(frame: pl.DataFrame, *names: str) -> pl.Expr:
    """The first of `names` the file has, else NULL text."""
    present = [pl.col(n) for n in names if n in frame.columns]
    return pl.coalesce(present) if present else pl.lit(None, pl.String)


def _lookup(frame: pl.DataFrame, name: str, mapping: dict[str, str | None]) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(None, pl.String)
    return pl.col(name).str.to_lowercase().replace_strict(mapping, default=None, return_dtype=pl.String)


def _focus_columns(typed: pl.DataFrame, view: str, path: str, source_name: str) -> list[pl.Expr]:
    day = pl.col("__date").cast(pl.Datetime("us"))
    one_day = pl.duration(days=1)
    cost = pl.col("__cost")
    category = {k: v[0] for k, v in CHARGE_TYPES.items()}
    klass = {k: v[1] for k, v in CHARGE_TYPES.items()}
    period_start = (
        pl.col("__BillingPeriodStartDate").cast(pl.Datetime("us")) if "__BillingPeriodStartDate" in typed.columns
        else day.dt.truncate("1mo")
    )
    period_end = (
        pl.col("__BillingPeriodEndDate").cast(pl.Datetime("us")) + one_day if "__BillingPeriodEndDate" in typed.columns
        else day.dt.truncate("1mo").dt.offset_by("1mo")
    )
    return [
        _col(typed, "BillingAccountId").alias("BillingAccountId"),
        _col(typed, "BillingAccountName").alias("BillingAccountName"),
        _col(typed, "SubscriptionId").alias("SubAccountId"),
        _col(typed, "SubscriptionName").alias("SubAccountName"),
        pl.lit("Microsoft").alias("ProviderName"),
        _col(typed, "PublisherName").fill_null("Microsoft").alias("PublisherName"),
        pl.lit("Microsoft").alias("InvoiceIssuerName"),
        _col(typed, "InvoiceId").alias("InvoiceId"),
        period_start.alias("BillingPeriodStart"),
        period_end.alias("BillingPeriodEnd"),
        day.alias("ChargePeriodStart"),
        (day + one_day).alias("ChargePeriodEnd"),
        pl.col("__charge_type").replace_strict(category, return_dtype=pl.String).alias("ChargeCategory"),
        pl.col("__charge_type").replace_strict(klass, return_dtype=pl.String).alias("ChargeClass"),
        _col(typed, "Product", "ProductName").alias("ChargeDescription"),
        _lookup(typed, "Frequency", FREQUENCIES).alias("ChargeFrequency"),
        _lookup(typed, "PricingModel", PRICING_MODELS).alias("PricingCategory"),
        (cost if view == "actual" else pl.lit(None, pl.Float64)).alias("BilledCost"),
        (cost if view == "amortized" else pl.lit(None, pl.Float64)).alias("EffectiveCost"),
        (pl.col("__payg") * pl.col("__quantity")).alias("ListCost"),
        pl.col("__currency").alias("BillingCurrency"),
        pl.col("__quantity").alias("ConsumedQuantity"),
        _col(typed, "UnitOfMeasure").alias("ConsumedUnit"),
        pl.col("__quantity").alias("PricingQuantity"),
        _col(typed, "UnitOfMeasure").alias("PricingUnit"),
        _col(typed, "MeterCategory", "ConsumedService").alias("ServiceName"),
        _col(typed, "MeterSubCategory").alias("ServiceSubcategory"),
        _col(typed, "MeterId").alias("SkuId"),
        _col(typed, "PartNumber").alias("SkuPriceId"),
        _col(typed, "MeterName").alias("SkuMeter"),
        _col(typed, "ResourceLocation").str.to_lowercase().alias("RegionId"),
        _col(typed, "MeterRegion").alias("RegionName"),
        _col(typed, "AvailabilityZone").alias("AvailabilityZone"),
        _col(typed, "ResourceId").alias("ResourceId"),
        _col(typed, "ResourceName").alias("ResourceName"),
        _col(typed, "benefitId", "ReservationId").alias("CommitmentDiscountId"),
        _lookup(typed, "PricingModel", COMMITMENT_TYPES).alias("CommitmentDiscountType"),
        _tags(typed).alias("Tags"),
        pl.lit(source_name).alias("x_source"),
        pl.lit(path).alias("x_source_file"),
    ]


def _tags(typed: pl.DataFrame) -> pl.Expr:
    """EA writes `"k": "v","k2": "v2"` (no braces); newer exports write a JSON object. Both become an object."""
    if "Tags" not in typed.columns:
        return pl.lit(None, pl.String)
    tags = pl.col("Tags")
    return pl.when(tags.str.starts_with("{")).then(tags).otherwise(pl.lit("{") + tags + pl.lit("}"))


def _line_ids(raw: pl.DataFrame, view: str) -> pl.Series:
    """md5 of the cost view, the row number and every cell: stable across runs, and an actual and an amortized
    export of the same on-demand row (identical cells) still get different ids."""
    content = raw.select(
        pl.concat_str(
            [pl.lit(view), pl.int_range(1, pl.len() + 1).cast(pl.String)]
            + [pl.col(c).fill_null("\x00") for c in raw.columns],
            separator="\x1f",
        ).alias("content")
    )
    con = duckdb.connect()
    try:
        con.register("content", content)
        return con.sql("SELECT md5(content) AS h FROM content").pl()["h"]
    finally:
        con.close()


def check_tags(frame: pl.DataFrame, path: str) -> None:
    """Tags that are still not a JSON object after adding braces mean the file was cut or mis-quoted."""
    if frame["Tags"].is_null().all():
        return
    con = duckdb.connect()
    try:
        con.register("t", frame.select("Tags"))
        valid = con.sql("SELECT Tags IS NULL OR coalesce(json_valid(Tags), false) AS ok FROM t").pl()
    finally:
        con.close()
    check(frame.select("Tags").with_columns(valid["ok"].alias("__ok")), ~pl.col("__ok"), path,
          "Tags is not a JSON object: {value}", column="Tags")


SPEC = SourceSpec(
    kind="azure_ea",
    table="cost_lines",
    summary="Azure EA / MCA cost-details exports, actual or amortized (option `cost_view`)",
    doc="docs/sources/focus_and_azure.md",
    options=AzureEaOptions,
    read=read,
)
