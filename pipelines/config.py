"""The `aispend.yaml` config: what to read, where the warehouse lives, prices, budgets, alerts.

Relative paths are resolved against the config file's folder, so a config works from any working directory.
Secrets never sit here: a source names the environment variable that holds its key (`api_key_env`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Strict):
    """One entry of `sources:`. Its kind's module (pipelines/sources/) declares the table it feeds and the
    options it takes; `options` is checked against that model here, when the config loads."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str
    path: str | None = Field(default=None, description="local path or glob, or s3://bucket/prefix (not for API kinds)")
    endpoint_url: str | None = None
    region: str | None = None
    api_key_env: str | None = Field(default=None, description="name of the environment variable with the key")
    options: Any = Field(default_factory=dict, description="the kind's options (its spec's options model)")

    @model_validator(mode="after")
    def _by_kind(self) -> "SourceConfig":
        from pipelines.sources import specs

        known = specs()
        if self.kind not in known:
            raise ValueError(f"unknown source kind {self.kind!r}; known kinds: {', '.join(sorted(known))}")
        kind = known[self.kind]
        if self.path is None and kind.needs_path:
            raise ValueError(f"source {self.name}: kind {self.kind} needs a path (local path, glob or s3://bucket/prefix)")
        if not isinstance(self.options, kind.options):
            raw = self.options if self.options is not None else {}
            if not isinstance(raw, dict):
                raise ValueError(f"source {self.name}: options must be a mapping")
            try:
                self.options = kind.options.model_validate(raw)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                                     for e in exc.errors())
                raise ValueError(f"source {self.name} (kind {self.kind}): options: {problems}") from None
        return self

    @property
    def table(self) -> str:
        from pipelines.sources import spec

        return spec(self.kind).table


class PriceOverride(_Strict):
    """A price the user pays that genai-prices doesn't know or gets wrong (fine-tunes, negotiated rates)."""

    provider: str
    model: str
    input_usd_per_mtok: float | None = None
    output_usd_per_mtok: float | None = None
    cache_read_usd_per_mtok: float | None = None
    cache_write_usd_per_mtok: float | None = None
    cache_write_1h_usd_per_mtok: float | None = Field(default=None, description="1-hour cache writes; default: "
                                                      "the covered list rate, else 2x the input rate")
    valid_from: date = date(2000, 1, 1)
    valid_to: date | None = None


class ProviderDiscount(_Strict):
    """A negotiated discount off list prices for every model of a provider (e.g. an enterprise agreement)."""

    provider: str
    percent: float = Field(gt=0, lt=100)
    valid_from: date = date(2000, 1, 1)
    valid_to: date | None = None


class ModelAlias(_Strict):
    """A name the logs use that no price table knows, e.g. an Azure OpenAI deployment name."""

    alias: str
    model: str
    provider: str | None = Field(default=None, description="only for this provider; default: any")


class PricesConfig(_Strict):
    overrides: list[PriceOverride] = Field(default_factory=list)
    discounts: list[ProviderDiscount] = Field(default_factory=list)


class BudgetConfig(_Strict):
    name: str
    monthly_usd: float = Field(gt=0)
    team: str | None = None
    provider: str | None = None


class AlertConfig(_Strict):
    webhook_url_env: str = Field(description="environment variable holding the webhook URL")


class ChecksConfig(_Strict):
    """Thresholds of the warning-level asset checks (pipelines/defs/checks.py)."""

    reconciliation_tolerance_pct: float = Field(default=10.0, ge=0, description="max |difference_pct| per provider and month")
    min_price_coverage: float = Field(default=0.95, ge=0, le=1, description="min share of a source's tokens that are priced")
    max_age_hours: float = Field(default=48.0, gt=0, description="max age of the newest usage event and cost line")


class PublishConfig(_Strict):
    """Where a run also publishes the dashboard's snapshots: an S3 prefix, so the dashboard needs no volume shared
    with the run (docs/scaling.md). Credentials come from boto3's default chain (env vars, IRSA), never from here."""

    uri: str = Field(pattern=r"^s3://[^/]+", description="s3://bucket/prefix; each table goes to <uri>/<table>.parquet")
    endpoint_url: str | None = Field(default=None, description="for MinIO, R2 or another S3-compatible endpoint")
    region: str | None = None


class EvidenceConfig(_Strict):
    """How task_evidence weighs AI-assisted work against baseline work (docs/evidence.md)."""

    min_items: int = Field(default=20, ge=2, description="items per side before 'no measurable difference' is said")
    confidence: float = Field(default=0.95, gt=0.5, lt=1, description="the intervals' confidence level")
    since: date | None = Field(default=None, description="first day of the evidence period (default: all items)")
    until: date | None = Field(default=None, description="last day of the evidence period, inclusive")

    @model_validator(mode="after")
    def _ordered(self) -> "EvidenceConfig":
        if self.since and self.until and self.until < self.since:
            raise ValueError("evidence.until is before evidence.since")
        return self


# --- people and privacy (docs/sources/seats_and_agents.md) -------------------------------------------------
DEFAULT_PSEUDONYM_KEY_ENV = "AISPEND_PSEUDONYM_KEY"


class PrivacyConfig(_Strict):
    """`privacy:`: with `pseudonymize_people` on, names, emails and logins are stored as a keyed hash (HMAC)
    everywhere (pipelines/privacy.py). The key comes from the environment, never from this file; a config
    that turns the switch on without the variable set is refused, so nothing is ever loaded in clear by mistake."""

    pseudonymize_people: bool = False
    key_env: str = Field(default=DEFAULT_PSEUDONYM_KEY_ENV, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                         description="environment variable holding the HMAC key (at least 16 characters)")

    @model_validator(mode="after")
    def _key_present(self) -> "PrivacyConfig":
        import os

        if self.pseudonymize_people:
            key = os.environ.get(self.key_env, "")
            if len(key.strip()) < 16:
                raise ValueError(
                    f"privacy.pseudonymize_people is on but the environment variable {self.key_env} "
                    f"{'is not set' if not key.strip() else 'holds fewer than 16 characters'}: set it to a "
                    "secret key (for example `openssl rand -hex 32`) and keep it; a different key gives "
                    "different pseudonyms")
        return self


# --- finance: reporting currency, exchange rates, chargeback (docs/finance.md) ---------------------------------

class ChargebackConfig(_Strict):
    """How the `chargeback` mart spreads the AI cost no team's tasks explain (docs/finance.md, "Chargeback")."""

    rule: Literal["proportional", "even", "owner"] = Field(
        default="proportional", description="proportional to each team's direct cost, even, or all to `owner`")
    owner: str | None = Field(default=None, description="the team that carries all shared cost (rule owner)")
    cost_basis: Literal["billed", "effective"] = Field(
        default="billed", description="billed (cash, the invoice) or effective (amortized) cost")
    cost_centers: dict[str, str] = Field(default_factory=dict, description="team -> cost center")

    @model_validator(mode="after")
    def _owner_named(self) -> "ChargebackConfig":
        if self.rule == "owner" and not self.owner:
            raise ValueError("chargeback rule 'owner' needs `owner: <team>`")
        return self


class FinanceConfig(_Strict):
    """Money as finance reads it: the currency every mart is in, the rates that convert to it, chargeback."""

    reporting_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$",
                                    description="ISO 4217 code every mart and report is in")
    fx_rates: str | None = Field(
        default=None, description="CSV of date,currency,rate (reporting currency per one unit of currency); wins "
        "over the ECB reference rates where present")
    chargeback: ChargebackConfig = Field(default_factory=ChargebackConfig)
    accrual_months: int = Field(
        default=3, ge=1, le=24,
        description="closed months the month-to-date estimate takes each provider's invoice-to-logs ratio from")


class AispendConfig(_Strict):
    warehouse: str = "aispend-data/aispend.duckdb"
    start_date: date = Field(default=date(2024, 1, 1), description="first day of the daily and monthly partitions")
    snapshot_dir: str | None = Field(default=None, description="default: 'snapshot' beside the warehouse file")
    publish: PublishConfig | None = Field(default=None, description="also upload every snapshot to S3")
    sources: list[SourceConfig] = Field(default_factory=list)
    task_catalog: str | None = None
    prices: PricesConfig = Field(default_factory=PricesConfig)
    model_aliases: list[ModelAlias] = Field(default_factory=list)
    budgets: list[BudgetConfig] = Field(default_factory=list)
    alerts: list[AlertConfig] = Field(default_factory=list)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    finance: FinanceConfig = Field(default_factory=FinanceConfig)
    base_dir: str = Field(default=".", description="set by load_config: the config file's folder")

    @model_validator(mode="after")
    def _unique_source_names(self) -> "AispendConfig":
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique, repeated: {', '.join(dupes)}")
        return self

    def resolve(self, path: str) -> str:
        """A config path made absolute against the config's folder; s3:// URLs pass through."""
        if path.startswith("s3://"):
            return path
        p = Path(path).expanduser()
        return str(p if p.is_absolute() else (Path(self.base_dir) / p).resolve())

    @property
    def warehouse_path(self) -> Path:
        return Path(self.resolve(self.warehouse))

    @property
    def snapshot_path(self) -> Path:
        if self.snapshot_dir:
            return Path(self.resolve(self.snapshot_dir))
        return self.warehouse_path.parent / "snapshot"

    @property
    def task_catalog_path(self) -> Path | None:
        return Path(self.resolve(self.task_catalog)) if self.task_catalog else None

    @property
    def reporting_currency(self) -> str:
        return self.finance.reporting_currency

    @property
    def fx_rates_path(self) -> Path | None:
        return Path(self.resolve(self.finance.fx_rates)) if self.finance.fx_rates else None


class ConfigError(Exception):
    pass


def load_config(path: str | Path) -> AispendConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    raw["base_dir"] = str(path.resolve().parent)
    try:
        return AispendConfig.model_validate(raw)
    except Exception as exc:  # pydantic's message names the field and the problem
        raise ConfigError(f"{path}: {exc}") from exc
