"""FOCUS 1.0 / 1.1 / 1.2 cost exports (CSV, CSV.gz, Parquet) into cost_lines.

Real exports bend the spec (NULL written as text, `2024-09-01 00:00:00` times, mixed-case values), so the
reader forgives formatting but refuses anything that would make a cost figure wrong: text in a cost column,
a missing or made-up currency, an unreadable charge period, a repeated line id.

Each cloud's export is read as it comes: column names match case-insensitively (`billedcost`), vendor columns
fill FOCUS 1.1 columns a 1.0 export lacks (SkuMeter from Azure's `x_SkuMeterName` or AWS's `x_UsageType`,
ResourceType from `x_ResourceType`, ChargeDescription from `x_SkuDescription`), Azure 1.0's minute-precision
times (`2024-01-01T00:00Z`) parse, and Parquet map columns (AWS writes Tags as a map) become JSON objects.
AI lines, models and token types are recognized by `pipelines.sources.ai_lines` from SKU and meter names.

Options (`source.options`), used only when the file lacks the column:
  billing_currency: currency of every line (e.g. the spec's worked examples carry none)
  provider_name:    ProviderName of every line
  id_column:        the column holding the file's own line id (default: x_line_id, then Id)
"""

from __future__ import annotations


import duckdb
import polars as pl
from pydantic import Field

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.schemas import COST_LINES, conform
from pipelines.sources.ai_lines import with_ai_columns
from pipelines.sources.spec import FileOptions, SourceSpec
from pipelines.sources.common import ISO_4217, blank_to_null, check, read_table, to_utc

REQUIRED = [
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ProviderName",
]
# Costs must be numbers when present; a cost that silently became null would undercount spend.
STRICT_NUMBERS = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost"]
NEVER_NULL = ["BilledCost", "EffectiveCost", "ChargePeriodStart"]
LENIENT_NUMBERS = ["ConsumedQuantity", "PricingQuantity"]
TIMESTAMPS = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"]
ID_COLUMNS = ["x_line_id", "Id"]

CHARGE_CATEGORIES = ["Usage", "Purchase", "Tax", "Credit", "Adjustment"]
CHARGE_CLASSES = ["Correction"]

# FOCUS 1.3 renames ProviderName; FOCUS 1.0-preview (still written by OCI) says UsageQuantity/UsageUnit. A file
# that only has the other name still fills the column.
ALIASES = {"ServiceProviderName": "ProviderName", "UsageQuantity": "ConsumedQuantity", "UsageUnit": "ConsumedUnit"}
# Vendor columns that say what FOCUS 1.1+ columns say, for exports that lack those: FOCUS column <- candidates.
VENDOR_FILLS = {
    "SkuMeter": ["x_SkuMeterName", "x_UsageType"],
    "ResourceType": ["x_ResourceType"],
    "ChargeDescription": ["x_SkuDescription"],
}
_VENDOR = [c for names in VENDOR_FILLS.values() for c in names] + ["x_ResourceGroupName", "x_SkuMeterCategory"]
_KNOWN = {name.lower(): name for name in [*COST_LINES, *ID_COLUMNS, *ALIASES, *_VENDOR]}


class FocusOptions(FileOptions):
    """Used only when the file lacks the column."""

    billing_currency: str | None = Field(default=None, description="currency of every line")
    provider_name: str | None = Field(default=None, description="ProviderName of every line")
    id_column: str | None = Field(default=None, description="the column holding the file's own line id")


def read(path: str, source: SourceConfig, data: bytes | None = None) -> pl.DataFrame:
    raw = _canonical_headers(read_table(path, data, "a FOCUS source", canonical=_known_name))
    raw = _fill_from_vendor_columns(_apply_defaults(raw, source.options))
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise SourceError(path, f"missing required FOCUS column(s): {', '.join(missing)}", column=missing[0])
    typed = raw.with_columns(_typed_columns(raw.schema))
    _validate(raw, typed, path)
    id_column = source.options.id_column or next((c for c in ID_COLUMNS if c in raw.columns), None)
    line_ids = _explicit_ids(raw, id_column, path) if id_column else _content_ids(raw)
    out = typed.with_columns(
        line_ids.alias("x_line_id"),
        _charge_category(raw.schema),
        _charge_class(raw.schema),
        _tags(raw.schema),
        *_passthrough(raw.schema, ["x_model", "x_token_type"]),
        pl.lit(source.name).alias("x_source"),
        pl.lit(path).alias("x_source_file"),
    )
    return with_ai_columns(conform(out, COST_LINES))


def _fill_from_vendor_columns(frame: pl.DataFrame) -> pl.DataFrame:
    fills = []
    for target, candidates in VENDOR_FILLS.items():
        present = [c for c in candidates if c in frame.columns]
        if present:
            sources = ([pl.col(target)] if target in frame.columns else []) + [pl.col(c) for c in present]
            fills.append(pl.coalesce([_as_text(s) for s in sources]).alias(target))
    return frame.with_columns(fills) if fills else frame


def _as_text(col: pl.Expr) -> pl.Expr:
    return blank_to_null(col.cast(pl.String))


def _known_name(header: str) -> str | None:
    """The column a header is read as (None: a column this reader does not read)."""
    return _KNOWN.get(header.strip().lower())


def _canonical_headers(frame: pl.DataFrame) -> pl.DataFrame:
    """Known FOCUS names matched case-insensitively, so `billedcost` or ` BilledCost ` still count."""
    renames = {}
    for col in frame.columns:
        canonical = _KNOWN.get(col.strip().lower())
        if canonical and canonical != col:
            renames[col] = canonical
    frame = frame.rename(renames) if renames else frame
    for alias, target in ALIASES.items():
        if alias in frame.columns and target not in frame.columns:
            frame = frame.rename({alias: target})
    return frame


def _apply_defaults(frame: pl.DataFrame, options: FocusOptions) -> pl.DataFrame:
    defaults = {"BillingCurrency": options.billing_currency, "ProviderName": options.provider_name}
    add = [pl.lit(str(v)).alias(col) for col, v in defaults.items() if v is not None and col not in frame.columns]
    return frame.with_columns(add) if add else frame


def _text(name: str, schema: pl.Schema) -> pl.Expr:
    """A column as trimmed text with null spellings removed (text columns only; typed Parquet passes through)."""
    if schema[name] == pl.String:
        return blank_to_null(pl.col(name))
    return pl.col(name).cast(pl.String)


def _typed_columns(schema: pl.Schema) -> list[pl.Expr]:
    exprs = []
    for name in schema.names():
        if name in TIMESTAMPS:
            source = _text(name, schema) if schema[name] == pl.String else pl.col(name)
            exprs.append(to_utc(source, schema[name]).alias(name))
        elif name in STRICT_NUMBERS or name in LENIENT_NUMBERS:
            exprs.append(_text(name, schema).cast(pl.Float64, strict=False).alias(name))
        elif name == "BillingCurrency":
            exprs.append(_text(name, schema).str.to_uppercase().alias(name))
        elif schema[name] == pl.String:
            exprs.append(blank_to_null(pl.col(name)).alias(name))
    return exprs


def _validate(raw: pl.DataFrame, typed: pl.DataFrame, path: str) -> None:
    for col in STRICT_NUMBERS + TIMESTAMPS:
        if col in raw.columns:
            kind = "a number" if col in STRICT_NUMBERS else "a timestamp"
            _check_parse(raw, typed, col, kind, path)
    for col in NEVER_NULL:
        check(typed, pl.col(col).is_null(), path, "missing value (FOCUS requires one on every line)", column=col)
    check(typed, pl.col("BillingCurrency").is_null(), path, "missing currency", column="BillingCurrency")
    check(
        typed,
        ~pl.col("BillingCurrency").is_in(sorted(ISO_4217)),
        path,
        "unknown currency {value} (expected an ISO 4217 code such as USD)",
        column="BillingCurrency",
    )


def _check_parse(raw: pl.DataFrame, typed: pl.DataFrame, col: str, kind: str, path: str) -> None:
    """Text that was there but did not parse: the row, the column and the offending value."""
    text = _text(col, raw.schema)
    shown = pl.DataFrame({col: raw.select(text)[col], "__parsed": typed[col]})
    bad = pl.col(col).is_not_null() & pl.col("__parsed").is_null()
    check(shown, bad, path, f"not {kind}: {{value}}", column=col)


def _explicit_ids(raw: pl.DataFrame, column: str, path: str) -> pl.Expr:
    if column not in raw.columns:
        raise SourceError(path, "the id column named in the source options is missing", column=column)
    ids = raw.select(_text(column, raw.schema).alias(column))
    check(ids, pl.col(column).is_null(), path, "missing line id", column=column)
    repeat = pl.int_range(pl.len()).over(column) > 0  # the second sighting is where the file goes wrong
    check(ids, repeat, path, "duplicate line id {value} (already used on an earlier row)", column=column)
    return pl.lit(ids[column])


def _content_ids(raw: pl.DataFrame) -> pl.Expr:
    """md5 of the row number and every cell as read: stable across runs and library versions (unlike
    Polars' own hash), so re-reading the same file gives the same ids."""
    content = raw.select(
        pl.concat_str(
            [pl.int_range(1, pl.len() + 1).cast(pl.String)]
            + [_cell_text(c, raw.schema[c]).fill_null("\x00") for c in raw.columns],
            separator="\x1f",
        ).alias("content")
    )
    con = duckdb.connect()
    try:
        con.register("content", content)
        hashed = con.sql("SELECT md5(content) AS h FROM content").pl()
    finally:
        con.close()
    return pl.lit(hashed["h"])


def _cell_text(name: str, dtype: pl.DataType) -> pl.Expr:
    if dtype.is_nested():  # Parquet maps, lists and structs: their JSON text
        return pl.struct(pl.col(name)).struct.json_encode()
    return pl.col(name).cast(pl.String)


def _canonical_case(name: str, values: list[str], schema: pl.Schema) -> pl.Expr:
    if name not in schema:
        return pl.lit(None, pl.String).alias(name)
    text = _text(name, schema)
    lookup = {v.lower(): v for v in values}
    return text.str.to_lowercase().replace(lookup).fill_null(text).alias(name)


def _charge_category(schema: pl.Schema) -> pl.Expr:
    return _canonical_case("ChargeCategory", CHARGE_CATEGORIES, schema)


def _charge_class(schema: pl.Schema) -> pl.Expr:
    return _canonical_case("ChargeClass", CHARGE_CLASSES, schema)


def _tags(schema: pl.Schema) -> pl.Expr:
    """Tags stay JSON text; Parquet may hold them as a struct, which is encoded back to JSON."""
    if "Tags" not in schema:
        return pl.lit(None, pl.String).alias("Tags")
    if isinstance(schema["Tags"], pl.Struct):
        return pl.col("Tags").struct.json_encode().alias("Tags")
    if isinstance(schema["Tags"], pl.List) and isinstance(schema["Tags"].inner, pl.Struct):
        return _map_as_json(pl.col("Tags")).alias("Tags")
    return _text("Tags", schema).alias("Tags")


def _json_string(text: pl.Expr) -> pl.Expr:
    """A JSON string literal (quotes and escapes) made by Polars' own encoder: `{"v":"..."}` minus the wrapper."""
    encoded = pl.struct(text.cast(pl.String).alias("v")).struct.json_encode()
    return encoded.str.slice(5).str.head(-1)


def _map_as_json(col: pl.Expr) -> pl.Expr:
    """A Parquet map (read by Polars as a list of key/value structs) as JSON object text; empty map -> `{}`."""
    pairs = col.list.eval(
        pl.concat_str(
            [_json_string(pl.element().struct.field("key")), pl.lit(":"),
             pl.coalesce(_json_string(pl.element().struct.field("value")), pl.lit("null"))]
        )
    )
    return pl.when(col.is_not_null()).then(pl.lit("{") + pairs.list.join(",") + pl.lit("}"))


def _passthrough(schema: pl.Schema, names: list[str]) -> list[pl.Expr]:
    return [_text(n, schema).alias(n) if n in schema else pl.lit(None, pl.String).alias(n) for n in names]


SPEC = SourceSpec(
    kind="focus",
    table="cost_lines",
    summary="FOCUS 1.0-1.2 exports (AWS, Azure, Google Cloud, OCI), CSV/CSV.gz/Parquet; Azure OpenAI, Vertex AI and "
            "GPU lines recognized",
    doc="docs/sources/focus_and_azure.md",
    options=FocusOptions,
    read=read,
)
