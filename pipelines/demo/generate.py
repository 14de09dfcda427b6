"""`aispend demo`'s data set: app logs, invoices, coding-agent logs, task catalog and config for a made-up
company.

Everything is drawn from one seed and written in a fixed order (gzip without a timestamp), so the same
arguments give byte-identical files and a demo, a test or a bug report can be reproduced exactly.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import yaml

from pipelines.demo import billing
from pipelines.demo.agents import AGENTS_DIR, agent_files, agent_sources
from pipelines.demo.catalog import (
    DEFAULT_END_DATE,
    MODELS,
    NEGOTIATED_DISCOUNT,
    NEGOTIATED_MODEL,
    TASKS,
    UNPRICED_MODEL,
    UNPRICED_RATES,
)
from pipelines.demo.people import CONFIG_SOURCES as PEOPLE_SOURCES
from pipelines.demo.people import write_people
from pipelines.demo.rates import list_rates, negotiated_from
from pipelines.demo.spans import generate_spans, otlp_lines
from pipelines.demo.work import CONFIG_SOURCES, draw_items, link_runs, write_work
from pipelines.models import normalize_model, normalize_provider

LOG_DIR = Path("logs/otel")
BILLING_DIR = Path("billing")


@dataclass(frozen=True)
class DemoFrames:
    """What the files hold, for tests and for callers that want the data without parsing it back."""

    spans: pl.DataFrame  # one row per span (see spans.SPAN_SCHEMA)
    cost_lines: pl.DataFrame  # `biller`, `day`, then the FOCUS columns as written
    tasks: list[dict]
    config_text: str
    start: date
    end: date
    work: pl.DataFrame | None = None  # the work items (pipelines/demo/work.py: ITEM_SCHEMA)


def _normalized_ids(pairs: list[tuple[str, str]]) -> list[str]:
    """The ids the pipeline will use for (provider, raw model) pairs: the contract's own functions decide."""
    frame = pl.DataFrame({"p": [p for p, _ in pairs], "m": [m for _, m in pairs]}, schema={"p": pl.String,
                                                                                         "m": pl.String})
    return frame.select(normalize_model(normalize_provider(pl.col("p")), pl.col("m")).alias("id"))["id"].to_list()


def _model_id(key: str) -> str:
    m = MODELS[key]
    return _normalized_ids([(m.otel_provider, m.response_model)])[0]


def _provider_id(raw: str) -> str:
    return pl.select(normalize_provider(pl.lit(raw)).alias("id"))[0, 0]


def task_catalog() -> list[dict]:
    out = []
    for t in TASKS:
        entry = {
            "task": t.task,
            "description": t.description,
            "human_minutes": t.human_minutes,
            "hourly_rate_usd": t.hourly_rate_usd,
            "review_minutes": t.review_minutes,
            "latency_sensitive": t.latency_sensitive,
        }
        if t.eligible:
            entry["eligible_models"] = [_model_id(k) for k in t.eligible]
        out.append(entry)
    return out


def _nice(usd: float) -> float:
    """A budget a person would type: two significant figures, at least 10."""
    if usd < 10:
        return 10.0
    digits = len(str(int(usd))) - 2
    return float(round(usd, -digits))


def config_text(cost_lines: pl.DataFrame, rates: pl.DataFrame, discount_from: date, end: date) -> str:
    recent = cost_lines.filter(
        (pl.col("day") > end - timedelta(days=30)) & (pl.col("ServiceCategory") == "AI and Machine Learning")
        & (pl.col("ChargeCategory") == "Usage")
    )
    total = float(billing.billed_usd(recent).sum())
    anthropic = float(billing.billed_usd(recent.filter(pl.col("biller") == "anthropic")).sum())
    sonnet = rates.filter((pl.col("model_key") == NEGOTIATED_MODEL) & (pl.col("day") == discount_from))
    neg = {r["token_type"]: round(r["list_usd_per_mtok"] * (1 - NEGOTIATED_DISCOUNT), 6)
           for r in sonnet.iter_rows(named=True)}
    anthropic_id = _provider_id("anthropic")
    return f"""\
# aispend demo configuration, written by `aispend demo`. Paths are relative to this file.
warehouse: warehouse/aispend.duckdb
task_catalog: tasks.yaml
# Partitions (daily usage, monthly billing) start here.
start_date: {(end - timedelta(days=120)).replace(day=1).isoformat()}

sources:
  # FOCUS 1.2 cost exports from AWS, OpenAI, Anthropic and Azure (in EUR), one file per provider and month.
  - name: billing
    kind: focus
    path: "billing/*.csv"
  # OpenTelemetry GenAI spans as the Collector's file exporter writes them, one file per UTC day.
  - name: app_logs
    kind: otel_genai
    path: "logs/otel/*.jsonl.gz"
{CONFIG_SOURCES}
{PEOPLE_SOURCES}{agent_sources()}
prices:
  overrides:
    # Our negotiated Anthropic rate for Claude Sonnet 4: {NEGOTIATED_DISCOUNT:.0%} off list from {discount_from}.
    # Overrides win over genai-prices for the dates they cover.
    - provider: {anthropic_id}
      model: {_model_id(NEGOTIATED_MODEL)}
      input_usd_per_mtok: {neg['input']}
      output_usd_per_mtok: {neg['output']}
      cache_read_usd_per_mtok: {neg['cache_read']}
      cache_write_usd_per_mtok: {neg['cache_write']}
      valid_from: {discount_from.isoformat()}
    # {UNPRICED_MODEL} is newer than the bundled price data, so its requests show as unpriced (never $0).
    # To price them, uncomment this override:
    # - provider: {anthropic_id}
    #   model: {_model_id(UNPRICED_MODEL)}
    #   input_usd_per_mtok: {UNPRICED_RATES['input']}
    #   output_usd_per_mtok: {UNPRICED_RATES['output']}
    #   cache_read_usd_per_mtok: {UNPRICED_RATES['cache_read']}
    #   cache_write_usd_per_mtok: {UNPRICED_RATES['cache_write']}

checks:
  # The demo is a fixed window of past data, so freshness does not apply (a live setup keeps the 48-hour default).
  max_age_hours: 876000

budgets:
  # All AI spend across providers, per calendar month (allocated cost: the invoice where loaded).
  - name: total
    monthly_usd: {_nice(total * 1.05)}
  # Anthropic alone: set below the recent run rate, so the demo shows a breach.
  - name: anthropic
    monthly_usd: {_nice(anthropic * 0.9)}
    provider: {anthropic_id}

finance:
  # Every mart and report is in this currency; Azure bills in EUR, converted at each charge day's ECB rate.
  reporting_currency: USD
  # Chargeback: the cost no team's task explains (GPU, credits) spread in proportion to each team's own.
  # Close a month with `aispend close 2026-10 --config aispend.yaml`, then `aispend report --month 2026-10`.
  chargeback:
    rule: proportional
    cost_centers: {{platform: CC-100, engineering: CC-110, data: CC-120, support: CC-200, sales: CC-300}}
"""


def demo_frames(
    *,
    seed: int = 7,
    end_date: date = DEFAULT_END_DATE,
    days: int = 90,
    events_target: int = 240_000,
    progress: Callable[[str], None] | None = None,
) -> DemoFrames:
    if days < 1 or events_target < 1:
        raise ValueError("days and events_target must be positive")
    start = end_date - timedelta(days=days - 1)
    rates = list_rates(start, days)
    first = rates.filter(pl.col("day") == start)
    reads = set(first.filter((pl.col("token_type") == "cache_read") & pl.col("list_usd_per_mtok").is_not_null())
                ["model_key"])
    writes = set(first.filter((pl.col("token_type") == "cache_write") & pl.col("list_usd_per_mtok").is_not_null())
                 ["model_key"])
    spans = generate_spans(seed, start, days, events_target, (reads, writes), progress)
    work = draw_items(seed, start, days, spans)
    spans = link_runs(work, spans)
    if progress:
        progress("pricing the invoices")
    discount_from = negotiated_from(start, days)
    logged = billing.logged_tokens(spans.lazy()).collect()
    logged_priced = billing.priced(logged.lazy(), rates.lazy(), discount_from).collect()
    cost_by_day = logged_priced.group_by("day").agg(pl.col("list_usd").sum()).sort("day")
    extra = billing.uninstrumented_tokens(cost_by_day, rates, seed)
    extra_priced = billing.priced(extra.lazy(), rates.lazy(), discount_from).collect()
    usage = billing.model_usage_lines(pl.concat([logged_priced, extra_priced], how="diagonal").lazy()).collect()
    other = billing.other_lines_frame(billing.aws_other_lines(start, days))
    lines = billing.delivered(pl.concat([usage, other], how="diagonal"), end_date)
    month_end = billing.other_lines_frame(billing.month_end_lines(lines, start, end_date))
    cost_lines = billing.finish(billing.in_billing_currency(pl.concat([lines, month_end], how="diagonal")),
                                end_date)
    return DemoFrames(spans, cost_lines, task_catalog(), config_text(cost_lines, rates, discount_from, end_date),
                      start, end_date, work)


def _clear(folder: Path, pattern: str) -> None:
    """Remove files an earlier demo wrote here, so a shorter window leaves no stale days behind."""
    for old in folder.glob(pattern):
        old.unlink()


def write_logs(spans: pl.DataFrame, out_dir: Path, progress: Callable[[str], None] | None = None) -> None:
    folder = out_dir / LOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    _clear(folder, "*.jsonl.gz")
    lines = otlp_lines(spans.lazy()).collect()
    days = lines.partition_by("day", maintain_order=True, as_dict=True)
    for i, ((day,), frame) in enumerate(days.items()):
        text = "\n".join(frame["line"].to_list()) + "\n"
        (folder / f"{day.isoformat()}.jsonl.gz").write_bytes(gzip.compress(text.encode(), compresslevel=6, mtime=0))
        if progress and (i % 10 == 9 or i == len(days) - 1):
            progress(f"wrote app logs for {i + 1}/{len(days)} days")


def write_billing(cost_lines: pl.DataFrame, out_dir: Path) -> list[Path]:
    folder = out_dir / BILLING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    _clear(folder, "*-focus-*.csv")
    written = []
    by_file = cost_lines.with_columns(pl.col("day").dt.strftime("%Y-%m").alias("_month"))
    for (biller, month), frame in sorted(by_file.partition_by("biller", "_month", as_dict=True).items()):
        path = folder / f"{biller}-focus-{month}.csv"
        frame.select(billing.FOCUS_COLUMNS).write_csv(path, null_value="", float_precision=10)
        written.append(path)
    return written


def write_agent_logs(files: list[tuple[str, str]], out_dir: Path) -> int:
    """The developers' agent logs under agents/, replacing any an earlier demo wrote there."""
    folder = out_dir / AGENTS_DIR
    if folder.exists():
        shutil.rmtree(folder)
    for relative, text in files:
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return len(files)


def generate_demo(
    out_dir: Path,
    *,
    seed: int = 7,
    end_date: date = DEFAULT_END_DATE,
    days: int = 90,
    events_target: int = 240_000,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the demo data set under `out_dir` and return the path of its aispend.yaml."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = demo_frames(seed=seed, end_date=end_date, days=days, events_target=events_target, progress=progress)
    write_logs(frames.spans, out_dir, progress)
    write_billing(frames.cost_lines, out_dir)
    write_work(frames.work, out_dir)
    write_people(out_dir, frames.start, frames.end, seed)
    written = write_agent_logs(agent_files(seed, frames.start, days, events_target), out_dir)
    if progress:
        progress(f"wrote {written} coding-agent session files")
    if progress:
        progress("wrote invoices, work records, task catalog and config")
    (out_dir / "tasks.yaml").write_text(
        "# What each task is worth when a person does it; aispend compares it with what the AI run cost.\n"
        + yaml.safe_dump({"tasks": frames.tasks}, sort_keys=False, allow_unicode=True, width=120)
    )
    config = out_dir / "aispend.yaml"
    config.write_text(frames.config_text)
    return config


__all__ = ["DemoFrames", "demo_frames", "generate_demo", "task_catalog"]
