"""Which AWS bill lines are AI, read from product codes and usage types (pure Polars expressions).

AWS names Bedrock token usage in the usage type, not in a model column, and the naming has changed over time:
`USE1-Claude4.6Sonnet-input-tokens`, `...-cache-read-input-token-count`, a `-cross-region-global` suffix for
global inference profiles, and the older Marketplace form `USW2-MP:USW2_InputTokenCount-Units` where only the
product name (`Claude 3 Haiku (Amazon Bedrock Edition)`) says which model it was. Region prefixes are not
reliable (us-east-1 often has none), so nothing here depends on them.

Model names are turned into Bedrock-style ids (`anthropic.claude-sonnet-4-6`, `amazon.nova-2-lite-v1:0`) and
then through `pipelines.models.normalize_model(aws, ...)`, the same matcher every other source uses. Older
models need a dated id the name cannot give (`Claude3Haiku` -> `...-20240307-v1:0`): those come from the small
table below. A name that neither derives nor appears in the table leaves `x_model` NULL: an unknown model is
shown as such rather than priced as the wrong one.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from pipelines.models import normalize_model, price_catalog

BEDROCK_PRODUCT_CODES = ["AmazonBedrock", "AmazonBedrockService"]
SAGEMAKER_PRODUCT_CODES = ["AmazonSageMaker"]
# Other AWS services that are AI and Machine Learning in FOCUS terms (their lines are `ai_service`).
OTHER_AI_PRODUCT_CODES = [
    "AmazonComprehend", "AmazonRekognition", "AmazonTextract", "AmazonTranslate", "AmazonPolly",
    "AmazonTranscribe", "AmazonLex", "AmazonKendra", "AmazonPersonalize", "AmazonForecast", "AmazonQ",
    "AmazonBedrockAgentCore",
]
AI_SERVICE_CATEGORY = "AI and Machine Learning"

# FOCUS ServiceCategory by product code for the common services; anything else is "Other".
SERVICE_CATEGORIES = {
    **dict.fromkeys(BEDROCK_PRODUCT_CODES + SAGEMAKER_PRODUCT_CODES + OTHER_AI_PRODUCT_CODES, AI_SERVICE_CATEGORY),
    **dict.fromkeys(["AmazonEC2", "AWSLambda", "AmazonECS", "AmazonEKS", "AWSFargate", "AmazonLightsail",
                     "AWSBatch", "ElasticMapReduce"], "Compute"),
    **dict.fromkeys(["AmazonS3", "AmazonEFS", "AmazonFSx", "AmazonS3GlacierDeepArchive", "AmazonGlacier",
                     "AWSBackup", "AmazonECR"], "Storage"),
    **dict.fromkeys(["AmazonRDS", "AmazonDynamoDB", "AmazonElastiCache", "AmazonRedshift", "AmazonDocDB",
                     "AmazonNeptune", "AmazonMemoryDB"], "Databases"),
    **dict.fromkeys(["AmazonVPC", "AWSDataTransfer", "AmazonCloudFront", "AmazonRoute53", "AWSELB",
                     "AWSDirectConnect", "AWSGlobalAccelerator"], "Networking"),
    **dict.fromkeys(["AmazonCloudWatch", "AWSCloudTrail", "AWSConfig", "AWSSystemsManager",
                     "AWSCostExplorer"], "Management and Governance"),
    **dict.fromkeys(["AWSKMS", "awskms", "AWSSecretsManager", "AmazonGuardDuty", "AWSSecurityHub", "AWSWAF",
                     "AmazonInspectorV2"], "Security"),
    **dict.fromkeys(["AWSGlue", "AmazonAthena", "AmazonKinesis", "AmazonKinesisFirehose", "AmazonES",
                     "AmazonMSK", "AmazonQuickSight"], "Analytics"),
    **dict.fromkeys(["AWSQueueService", "AmazonSNS", "AmazonSES", "AWSEvents", "AmazonStates",
                     "AmazonApiGateway", "AmazonMQ"], "Integration"),
}

# Usage-type fragments naming each token type, most specific first (cache reads are input tokens too).
_TOKEN_TYPES = [
    ("cache_read", r"(?i)cache-?read-?input-?token|cachereadinputtoken"),
    ("cache_write", r"(?i)cache-?write-?input-?token|cachewriteinputtoken"),
    ("input", r"(?i)input-?token"),
    ("output", r"(?i)output-?token"),
]
# The model name between the region prefix and the token part: `USE1-Claude4.6Sonnet-input-tokens`.
_MODEL_IN_USAGE_TYPE = (
    r"^(?:[A-Za-z]{2,4}\d?-)?(.+?)-(?:cache-read-input-token|cache-write-input-token|input-token|output-token)"
)
# EC2 instance usage on accelerator families: p (NVIDIA), g (GPU), trn (Trainium), inf (Inferentia), dl.
_ACCELERATOR_USAGE = (
    r"(?:^|-)(?:BoxUsage|SpotUsage|DedicatedUsage|HostBoxUsage|UnusedBox|UnusedDed|ReservedHostUsage|"
    r"HostUsage)[^:]*:(?:p|g|trn|inf|dl)\d[a-z0-9-]*\."
)
_PROVISIONED = r"(?i)ProvisionedThroughput|ModelUnits|Provisioned-?Throughput"

# Names that cannot be turned into a price-table id (older Claude ids carry a release date).
# Keys are `claude-<family>-<version>` as derived below; values are Bedrock base model ids.
DATED_MODEL_IDS = {
    "claude-haiku-3": "anthropic.claude-3-haiku-20240307-v1:0",
    "claude-sonnet-3": "anthropic.claude-3-sonnet-20240229-v1:0",
    "claude-opus-3": "anthropic.claude-3-opus-20240229-v1:0",
    "claude-haiku-3.5": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "claude-sonnet-3.5": "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "claude-sonnet-3.5v2": "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "claude-sonnet-3.7": "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "claude-sonnet-4": "anthropic.claude-sonnet-4-20250514-v1:0",
    "claude-opus-4": "anthropic.claude-opus-4-20250514-v1:0",
    "claude-opus-4.1": "anthropic.claude-opus-4-1-20250805-v1:0",
    "claude-sonnet-4.5": "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "claude-haiku-4.5": "anthropic.claude-haiku-4-5-20251001-v1:0",
}


def is_bedrock(product_code: pl.Expr, product_name: pl.Expr) -> pl.Expr:
    """Bedrock's own product codes, or a Marketplace model sold as `... (Amazon Bedrock Edition)`."""
    return (
        product_code.is_in(BEDROCK_PRODUCT_CODES).fill_null(False)
        | product_name.str.contains(r"(?i)amazon bedrock").fill_null(False)
    )


def token_type(usage_type: pl.Expr) -> pl.Expr:
    """`input`, `output`, `cache_read` or `cache_write` for a token usage type, else NULL."""
    out = pl.lit(None, pl.String)
    for name, pattern in reversed(_TOKEN_TYPES):
        out = pl.when(usage_type.str.contains(pattern)).then(pl.lit(name)).otherwise(out)
    return out


def is_cross_region_global(usage_type: pl.Expr) -> pl.Expr:
    return usage_type.str.contains(r"(?i)cross-region-global").fill_null(False)


def is_provisioned_throughput(usage_type: pl.Expr) -> pl.Expr:
    return usage_type.str.contains(_PROVISIONED).fill_null(False)


def is_accelerator_instance(product_code: pl.Expr, usage_type: pl.Expr) -> pl.Expr:
    """EC2 hours on GPU, Trainium or Inferentia instances (`BoxUsage:p5.48xlarge`, `USW2-SpotUsage:g5...`)."""
    return (product_code == "AmazonEC2").fill_null(False) & usage_type.str.contains(_ACCELERATOR_USAGE).fill_null(False)


def model_name(usage_type: pl.Expr, product_name: pl.Expr) -> pl.Expr:
    """The model as AWS spells it: from the usage type, or for Marketplace lines from the product name
    (`Claude 3 Haiku (Amazon Bedrock Edition)` -> `Claude3Haiku`)."""
    from_usage = usage_type.str.extract(_MODEL_IN_USAGE_TYPE, 1)
    marketplace = usage_type.str.contains(r"(?i)(?:^|-)MP:").fill_null(False)
    from_product = product_name.str.replace(r"(?i)\s*\(.*bedrock.*\)\s*$", "").str.replace_all(r"\s+", "")
    return pl.when(marketplace | from_usage.is_null()).then(from_product).otherwise(from_usage)


def bedrock_model_id(name: pl.Expr, cross_region_global: pl.Expr) -> pl.Expr:
    """A Bedrock-style model id for an AWS model name, or NULL when the name is not one we can read."""
    claude = _claude_key(name)
    claude_id = claude.replace_strict(DATED_MODEL_IDS, default=None, return_dtype=pl.String)
    derived_claude = pl.when(claude.str.contains(r"^claude-(?:sonnet|opus|haiku)-([4-9]|\d\d)")).then(
        pl.lit("anthropic.") + claude.str.replace_all(".", "-", literal=True)
    )
    nova = name.str.extract_groups(r"^Nova(\d+(?:\.\d+)?)?(Lite|Pro|Micro|Premier|Sonic)$")
    nova_version = nova.struct.field("1").str.replace(r"\.0$", "")
    nova_version = pl.when(nova_version.is_null() | (nova_version == "1")).then(pl.lit("")).otherwise(
        nova_version + "-"
    )
    nova_id = pl.when(nova.struct.field("2").is_not_null()).then(
        pl.lit("amazon.nova-") + nova_version + nova.struct.field("2").str.to_lowercase() + pl.lit("-v1:0")
    )
    base = pl.coalesce(claude_id, derived_claude, nova_id)
    return pl.when(cross_region_global).then(pl.lit("global.") + base).otherwise(base)


def _claude_key(name: pl.Expr) -> pl.Expr:
    """`Claude4.6Sonnet`, `ClaudeSonnet4.6`, `Claude3.5SonnetV2` -> `claude-sonnet-4.6`, `claude-sonnet-3.5v2`."""
    first = name.str.extract_groups(r"(?i)^Claude(\d+(?:\.\d+)?)(Sonnet|Opus|Haiku)(V\d)?$")
    second = name.str.extract_groups(r"(?i)^Claude(Sonnet|Opus|Haiku)(\d+(?:\.\d+)?)(V\d)?$")
    family = pl.coalesce(first.struct.field("2"), second.struct.field("1")).str.to_lowercase()
    version = pl.coalesce(first.struct.field("1"), second.struct.field("2"))
    revision = pl.coalesce(first.struct.field("3"), second.struct.field("3")).str.to_lowercase().fill_null("")
    return pl.lit("claude-") + family + pl.lit("-") + version + revision


@cache
def _aws_catalog_ids() -> list[str]:
    return sorted({c.model for c in price_catalog() if c.provider == "aws"})


def canonical_model(bedrock_id: pl.Expr) -> pl.Expr:
    """The price table's aws id for a derived Bedrock id; NULL when the price table does not know it."""
    known = _aws_catalog_ids()
    as_is = normalize_model(pl.lit("aws"), bedrock_id)
    # Some in-region models are priced only under genai-prices' `regional.` id (amazon.nova-2-lite).
    regional = normalize_model(pl.lit("aws"), pl.lit("regional.") + bedrock_id)
    return pl.coalesce(
        pl.when(as_is.is_in(known)).then(as_is),
        pl.when(~bedrock_id.str.starts_with("global.") & regional.is_in(known)).then(regional),
    )


def tokens_per_pricing_unit(pricing_unit: pl.Expr) -> pl.Expr:
    """How many tokens one unit of usage is: `1K tokens` -> 1000, `1M tokens` -> 1,000,000, else 1."""
    unit = pricing_unit.str.strip_chars().str.to_lowercase()
    amount = unit.str.extract(r"^(\d+(?:\.\d+)?)?\s*(?:k|m|thousand|million)\b", 1).cast(pl.Float64).fill_null(1.0)
    scale = (
        pl.when(unit.str.contains(r"^(?:\d+(?:\.\d+)?)?\s*(?:m\b|million)")).then(1_000_000.0)
        .when(unit.str.contains(r"^(?:\d+(?:\.\d+)?)?\s*(?:k\b|thousand)")).then(1_000.0)
        .otherwise(None)
    )
    return (amount * scale).fill_null(1.0)


def ai_category(bedrock: pl.Expr, tokens: pl.Expr, provisioned: pl.Expr, product_code: pl.Expr,
                accelerator: pl.Expr) -> pl.Expr:
    """`model_usage`, `provisioned_throughput`, `ai_compute`, `ai_service`, or NULL when not AI."""
    return (
        pl.when(bedrock & provisioned).then(pl.lit("provisioned_throughput"))
        .when(bedrock & tokens.is_not_null()).then(pl.lit("model_usage"))
        .when(bedrock).then(pl.lit("ai_service"))
        .when(product_code.is_in(SAGEMAKER_PRODUCT_CODES).fill_null(False) | accelerator).then(pl.lit("ai_compute"))
        .when(product_code.is_in(OTHER_AI_PRODUCT_CODES).fill_null(False)).then(pl.lit("ai_service"))
        .otherwise(None)
    )


def service_category(product_code: pl.Expr, bedrock: pl.Expr) -> pl.Expr:
    by_code = product_code.replace_strict(SERVICE_CATEGORIES, default="Other", return_dtype=pl.String)
    return pl.when(bedrock).then(pl.lit(AI_SERVICE_CATEGORY)).otherwise(by_code)


def service_subcategory(product_code: pl.Expr, bedrock: pl.Expr) -> pl.Expr:
    return (
        pl.when(bedrock).then(pl.lit("Generative AI"))
        .when(product_code.is_in(SAGEMAKER_PRODUCT_CODES).fill_null(False)).then(pl.lit("Machine Learning"))
        .otherwise(None)
    )


def classify(keys: pl.LazyFrame, product_code: str, usage_type: str, product_name: str,
             pricing_unit: str) -> pl.LazyFrame:
    """The AI attributes of each DISTINCT (product code, usage type, product name, pricing unit).

    A bill has millions of lines but a few hundred distinct usage types, so the regexes and the model matcher
    run per distinct key and the lines get them by a join: the work grows with the variety of the bill, not
    its size. Adds `x_token_type`, `x_model`, `x_ai_category`, `tokens_per_unit` (NULL unless a token line),
    `is_bedrock`.
    """
    code, usage, name = pl.col(product_code), pl.col(usage_type), pl.col(product_name)
    bedrock = is_bedrock(code, name)
    tokens = pl.when(bedrock).then(token_type(usage))
    model_id = bedrock_model_id(model_name(usage, name), is_cross_region_global(usage))
    return (
        keys.with_columns(bedrock.alias("is_bedrock"), tokens.alias("x_token_type"))
        .with_columns(
            pl.when(pl.col("x_token_type").is_not_null()).then(canonical_model(model_id)).alias("x_model"),
            pl.when(pl.col("x_token_type").is_not_null()).then(tokens_per_pricing_unit(pl.col(pricing_unit)))
            .alias("tokens_per_unit"),
            ai_category(pl.col("is_bedrock"), pl.col("x_token_type"), is_provisioned_throughput(usage), code,
                        is_accelerator_instance(code, usage)).alias("x_ai_category"),
            service_category(code, pl.col("is_bedrock")).alias("ServiceCategory"),
            service_subcategory(code, pl.col("is_bedrock")).alias("ServiceSubcategory"),
        )
    )
