"""Scale benchmark: every pipeline stage at 10, 30 and 100 million usage events, time and peak memory per stage.

    .venv/bin/python bench/scale.py --events 10M                  # 10M: about 2.5 minutes here at light load
    .venv/bin/python bench/scale.py --events 10M,30M,100M         # the three sizes and a summary; about 30 minutes
    .venv/bin/python bench/scale.py --events 100M --keep --stages marts   # marts again on kept data

For each N it writes, under `--dir` (default /tmp/aispend-scale, deleted afterwards unless `--keep`):
- `raw/day=YYYY-MM-DD/usage.parquet`: N synthetic usage events as a reader returns them before normalization
  (the mix of bench/usage_pricing.py: 24 logged ids, aliases, unknown models, batch, tiers, long context), in
  runs of 4 requests with one task and team per run, 2% errors, an outcome on each run's last request;
- `cost/day=YYYY-MM-DD/cost_lines.parquet`: the matching invoice lines: per day, provider, model, token type and
  region, the day's logged tokens at a flat list rate less 5% (plus an idle GPU line on Sundays).

Then it runs each stage in its own subprocess, so each peak RSS (`ru_maxrss` of that process) is the stage's:
- `generate`: the two datasets above, one day at a time (Polars expressions only, no Python per event);
- `price`: per day partition, what ingest does for one unit: normalize (one collect, as a reader ends), then
  aliases + price (one collect, as loads.usage_pricing's pricer does), written to `priced/day=.../`;
- `load`: each day's priced file and each day's cost lines into a migrated DuckDB warehouse with
  `warehouse.db.replace_rows` (DELETE the unit's rows, INSERT), exactly the pipeline's write: a DuckDB table,
  not views over the Parquet;
- one stage per mart, calling the pipeline's own `marts.build` on that warehouse: a mart over events reads
  them a chunk of whole days at a time (`reads.day_chunks`, at most `reads.MAX_CHUNK_EVENTS` a chunk, a day
  either side for marts that count runs) with only the columns its transform uses, and adds the chunks' per-day
  sums up; `allocated_cost` and `anomalies` read `usage_daily`. The note says how many chunks it read and how
  much of the peak was DuckDB's own memory at the end (mostly its cache of the table's blocks).

A watchdog kills a stage whose RSS passes `--mem-limit-gb` (the machine is shared; the OOM killer would pick a
neighbour) or that runs past `--stage-timeout`; that is reported as the stage's result, not as a crash.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import polars as pl  # noqa: E402
from benchkit import fmt, parse_count, rss_gb  # noqa: E402

DAYS = 120
START = datetime(2025, 6, 1)  # the Anthropic discount of usage_pricing.py starts on day 31
RUN_SIZE = 4
TASKS = 40
TEAMS = 8
# Flat list rates per million tokens for the synthetic invoice; the invoice bills 5% under list.
LIST_RATES = {"input": 2.0, "cache_read": 0.5, "cache_write": 2.5, "output": 8.0}
INVOICE_DISCOUNT = 0.05
REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1"]
INVOICE_PROVIDER = {
    "openai": "OpenAI", "anthropic": "Anthropic", "aws": "Amazon Web Services", "google": "Google Cloud",
    "azure": "Microsoft", "mistral": "Mistral AI",
}
# In build order: the per-day sums before the rollups that read them (pipelines/graph.py).
MARTS = [
    "spend_daily", "usage_daily", "allocated_cost", "task_daily", "task_roi", "reconciliation_logs_daily",
    "reconciliation", "whatif_mix_daily", "whatif_runs_daily", "model_whatif", "waste", "anomalies",
    "budget_status", "spend_forecast",
]


# ---------------------------------------------------------------------------------------------- data


def day_list(days: int = DAYS) -> list[date]:
    return [START.date() + timedelta(days=d) for d in range(days)]


def day_events(n: int, day: date, offset: int, seed: int = 7) -> pl.LazyFrame:
    """One day's raw usage events, rows offset..offset+n of the whole run (the row number seeds every draw)."""
    from usage_pricing import raw_events, uniform

    from pipelines import schemas

    run = (pl.col("i") // RUN_SIZE).alias("run")
    last_of_run = pl.col("i") % RUN_SIZE == RUN_SIZE - 1

    def per_run(k: int, modulo: int) -> pl.Expr:
        return (pl.col("run").hash(seed * 1_000 + k) % modulo).cast(pl.Int64)

    events = (
        raw_events(n, seed, offset, start=datetime.combine(day, datetime.min.time()), span_seconds=86_400)
        .with_columns(run)
        .with_columns(
            pl.concat_str(pl.lit("task-"), per_run(20, TASKS).cast(pl.String)).alias("task"),
            pl.concat_str(pl.lit("team-"), per_run(21, TEAMS).cast(pl.String)).alias("team"),
            pl.concat_str(pl.lit("run-"), pl.col("run").cast(pl.String)).alias("run_id"),
            pl.when(uniform(22, 100, seed) < 2).then(pl.lit("error")).otherwise(pl.lit("ok")).alias("status"),
            pl.when(last_of_run)
            .then(pl.when(per_run(23, 100) < 85).then(pl.lit("success")).otherwise(pl.lit("failure")))
            .alias("outcome"),
            (50 + uniform(24, 20_000, seed)).cast(pl.Float64).alias("latency_ms"),
            pl.when(pl.col("raw_model").str.contains(r"(?i)gpt-5|^o3"))
            .then(pl.col("output_tokens") // 3).otherwise(0).alias("reasoning_tokens"),
            pl.lit("scale").alias("x_source"),
        )
    )
    return schemas.conform(events, schemas.USAGE_EVENTS)


def day_cost_lines(raw: pl.DataFrame, day: date) -> pl.DataFrame:
    """The invoice for one day: per provider, model, token type and region, the logged tokens at list - 5%.

    Normalization runs on the grouped rows (a few dozen), not on the events.
    """
    from pipelines import schemas
    from pipelines.models import normalize_model, normalize_provider

    tokens = {"input": "input_tokens", "cache_read": "cache_read_tokens", "cache_write": "cache_write_tokens",
              "output": "output_tokens"}
    grouped = (
        raw.lazy()
        .with_columns((pl.col("request_id").cast(pl.Int64).hash(99) % len(REGIONS)).alias("region_k"))
        .group_by("provider", "raw_model", "region_k")
        .agg(*(pl.col(c).sum().alias(t) for t, c in tokens.items()))
        .with_columns(normalize_provider(pl.col("provider")).alias("provider"))
        .with_columns(normalize_model(pl.col("provider"), pl.col("raw_model")).alias("x_model"))
        .group_by("provider", "x_model", "region_k")
        .agg(*(pl.col(t).sum() for t in tokens))
        .unpivot(index=["provider", "x_model", "region_k"], on=list(tokens), variable_name="x_token_type",
                 value_name="ConsumedQuantity")
        .filter(pl.col("ConsumedQuantity") > 0)
        .collect()
    )
    start = datetime.combine(day, datetime.min.time())
    rate = pl.col("x_token_type").replace_strict(LIST_RATES, return_dtype=pl.Float64)
    list_cost = pl.col("ConsumedQuantity").cast(pl.Float64) * rate / 1_000_000
    lines = grouped.with_columns(
        pl.col("provider").replace_strict(INVOICE_PROVIDER, default=pl.col("provider")).alias("ProviderName"),
        pl.lit("AI Models").alias("ServiceName"),
        pl.lit("AI and Machine Learning").alias("ServiceCategory"),
        pl.lit("Usage").alias("ChargeCategory"),
        pl.lit("USD").alias("BillingCurrency"),
        pl.lit(start).alias("ChargePeriodStart"),
        pl.lit(start + timedelta(days=1)).alias("ChargePeriodEnd"),
        pl.lit(start.replace(day=1)).alias("BillingPeriodStart"),
        list_cost.alias("ListCost"),
        (list_cost * (1 - INVOICE_DISCOUNT)).alias("BilledCost"),
        (list_cost * (1 - INVOICE_DISCOUNT)).alias("EffectiveCost"),
        pl.col("ConsumedQuantity").cast(pl.Float64),
        pl.lit("Tokens").alias("ConsumedUnit"),
        pl.col("region_k").replace_strict(dict(enumerate(REGIONS)), return_dtype=pl.String).alias("RegionId"),
        pl.lit(True).alias("x_is_ai"),
        pl.lit("model_usage").alias("x_ai_category"),
        pl.lit("scale_invoice").alias("x_source"),
    )
    if day.isoweekday() == 7:  # an idle GPU instance billed on Sundays, when the synthetic logs still have traffic
        idle = pl.DataFrame({
            "ProviderName": ["Amazon Web Services"], "ServiceName": ["Amazon SageMaker"], "ChargeCategory": ["Usage"],
            "BillingCurrency": ["USD"], "ChargePeriodStart": [start], "ChargePeriodEnd": [start + timedelta(days=1)],
            "BilledCost": [98.0], "EffectiveCost": [98.0], "ListCost": [98.0], "x_is_ai": [True],
            "x_ai_category": ["ai_compute"], "x_source": ["scale_invoice"],
        })
        lines = pl.concat([lines, idle], how="diagonal_relaxed")
    lines = lines.with_columns(
        pl.concat_str(pl.lit(f"{day}-"), pl.int_range(pl.len()).cast(pl.String)).alias("x_line_id")
    )
    return schemas.conform(lines.lazy(), schemas.COST_LINES).collect()


def task_catalog() -> pl.DataFrame:
    from pipelines import schemas

    k = pl.int_range(TASKS, eager=True)
    frame = pl.DataFrame({
        "task": [f"task-{i}" for i in range(TASKS)],
        "description": [f"synthetic task {i}" for i in range(TASKS)],
        "human_minutes": (5 + k * 3).cast(pl.Float64),
        "hourly_rate_usd": pl.Series([60.0] * TASKS),
        "review_minutes": (k % 5).cast(pl.Float64),
        "latency_sensitive": k % 3 == 0,
    })
    return schemas.conform(frame.lazy(), schemas.TASKS).collect()


def bench_config(workdir: Path):
    from usage_pricing import ALIASES, DISCOUNTS

    from pipelines.config import AispendConfig, BudgetConfig, PricesConfig

    return AispendConfig(
        warehouse=str(workdir / "warehouse" / "aispend.duckdb"),
        prices=PricesConfig(discounts=DISCOUNTS),
        model_aliases=ALIASES,
        budgets=[BudgetConfig(name="total", monthly_usd=500_000), BudgetConfig(name="team-1", team="team-1",
                                                                               monthly_usd=60_000)],
        base_dir=str(workdir),
    )


def day_files(workdir: Path, layer: str, name: str) -> list[Path]:
    return sorted((workdir / layer).glob(f"day=*/{name}"))


# -------------------------------------------------------------------------------------------- stages


def stage_generate(workdir: Path, events: int, days: int) -> dict:
    per_day, extra = divmod(events, days)
    offset = lines = 0
    for k, day in enumerate(day_list(days)):
        n = per_day + (1 if k < extra else 0)
        raw = day_events(n, day, offset).collect()
        offset += n
        for layer, name, frame in (("raw", "usage.parquet", raw), ("cost", "cost_lines.parquet", day_cost_lines(raw, day))):
            target = workdir / layer / f"day={day}" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            frame.write_parquet(target)
        lines += frame.height
        del raw
    size = sum(p.stat().st_size for p in day_files(workdir, "raw", "usage.parquet"))
    return {"rows_in": 0, "rows_out": offset + lines, "note": f"{offset:,} events + {lines:,} cost lines in "
            f"{days} daily files each; raw usage Parquet {size / 1e6:,.0f} MB"}


def stage_price(workdir: Path, **_) -> dict:
    from usage_pricing import normalized, priced

    from pipelines.pricing import build_price_table

    prices = build_price_table([]).lazy()
    rows = unpriced = 0
    slowest = 0.0
    for raw_file in day_files(workdir, "raw", "usage.parquet"):
        started = time.perf_counter()
        raw = pl.read_parquet(raw_file).with_columns(pl.lit(str(raw_file)).alias("x_source_file"))
        events = normalized(raw.lazy()).collect()
        del raw
        out = priced(events.lazy(), prices).collect()
        del events
        target = workdir / "priced" / raw_file.parent.name / "usage_events.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        out.write_parquet(target)
        rows += out.height
        unpriced += out["cost_usd"].null_count()
        slowest = max(slowest, time.perf_counter() - started)
        del out
    return {"rows_in": rows, "rows_out": rows,
            "note": f"per day partition; slowest day {slowest:.1f} s; unpriced {unpriced / max(rows, 1):.1%}"}


def stage_load(workdir: Path, **_) -> dict:
    from pipelines import loads
    from pipelines.schemas import COST_LINES, USAGE_EVENTS, conform
    from warehouse.db import connect_writer, replace_rows

    config = bench_config(workdir)
    if config.warehouse_path.parent.exists():
        shutil.rmtree(config.warehouse_path.parent)
    con = connect_writer(config.warehouse_path)
    try:
        loads.load_prices(con, config)
        replace_rows(con, "tasks", task_catalog())
        rows = 0
        for layer, name, table, schema in (("priced", "usage_events.parquet", "usage_events", USAGE_EVENTS),
                                           ("cost", "cost_lines.parquet", "cost_lines", COST_LINES)):
            for path in day_files(workdir, layer, name):
                frame = conform(pl.scan_parquet(path), schema).collect()
                if table == "cost_lines":
                    frame = frame.with_columns(pl.lit(str(path)).alias("x_source_file"))
                owner = frame["x_source"][0] if frame.height else "scale"
                rows += replace_rows(con, table, frame, where={"x_source": owner, "x_source_file": str(path)})
                del frame
        con.execute("CHECKPOINT")
    finally:
        con.close()
    size = config.warehouse_path.stat().st_size
    return {"rows_in": rows, "rows_out": rows, "note": f"replace_rows per daily file; warehouse file {size / 1e6:,.0f} MB"}


def stage_mart(workdir: Path, mart: str, **_) -> dict:
    """The pipeline's own step on the loaded warehouse, as `aispend run` builds it."""
    from pipelines import marts, reads
    from warehouse.db import connect_writer

    config = bench_config(workdir)
    con = connect_writer(config.warehouse_path)
    try:
        rows_in = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("usage_events", "cost_lines"))
        frame = marts.build(con, config, mart)
        duckdb_gb = con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0] / 1e9
        span = reads.span(con, "usage_events", "event_time")
        chunks = len(reads.day_chunks(con, span)) if span else 0
    finally:
        con.close()
    reads_what = "usage_daily" if mart in ("allocated_cost", "anomalies") else "per-day sums" if mart in (
        "reconciliation", "model_whatif") else (
        f"{chunks} chunks of events" if mart in marts.EVENT_COLUMNS else "small tables")
    return {"rows_in": rows_in, "rows_out": frame.height, "note": f"reads {reads_what}; DuckDB memory at the end {duckdb_gb:.2f} GB"}


def run_stage(name: str, workdir: Path, events: int, days: int) -> None:
    """Child side: run one stage and print its figures as one JSON line."""
    started = time.perf_counter()
    if name == "generate":
        result = stage_generate(workdir, events, days)
    elif name == "price":
        result = stage_price(workdir)
    elif name == "load":
        result = stage_load(workdir)
    else:
        result = stage_mart(workdir, name)
    result["seconds"] = time.perf_counter() - started
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print("RESULT " + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------- the parent


def spawn(name: str, workdir: Path, events: int, args: argparse.Namespace) -> dict:
    """Run one stage in a subprocess under the watchdog; its figures, or why it was stopped."""
    command = [sys.executable, str(Path(__file__).resolve()), "--stage", name, "--dir", str(workdir),
               "--events", str(events), "--days", str(args.days)]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    watched = 0.0
    stopped = None
    while child.poll() is None:
        watched = max(watched, rss_gb(child.pid))
        if watched > args.mem_limit_gb:
            stopped = f"killed: RSS passed {args.mem_limit_gb:g} GB"
        elif time.perf_counter() - started > args.stage_timeout:
            stopped = f"killed: ran past {args.stage_timeout:g} s"
        if stopped:
            child.kill()
            break
        time.sleep(0.2)
    out, err = child.communicate()
    elapsed = time.perf_counter() - started
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    reason = stopped or f"failed (exit {child.returncode}): {(err.strip().splitlines() or ['?'])[-1][:200]}"
    return {"seconds": elapsed, "peak_rss_gb": watched, "rows_in": None, "rows_out": None, "note": reason,
            "failed": True}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="10M", help="comma-separated counts, e.g. 10M,30M,100M")
    parser.add_argument("--days", type=int, default=DAYS, help="daily partitions the events spread over")
    parser.add_argument("--dir", default="/tmp/aispend-scale")
    parser.add_argument("--stages", default="all",
                        help="comma-separated: generate, price, load, marts, or mart names; default all")
    parser.add_argument("--mem-limit-gb", type=float, default=14.0)
    parser.add_argument("--stage-timeout", type=float, default=1500.0)
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--stage", help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)

    if args.stage:
        run_stage(args.stage, Path(args.dir), parse_count(args.events), args.days)
        return

    marts = MARTS
    wanted = ["generate", "price", "load", *marts] if args.stages == "all" else [
        s for part in args.stages.split(",") for s in (marts if part == "marts" else [part])
    ]
    results: dict[tuple[str, int], dict] = {}
    counts = [parse_count(c) for c in args.events.split(",")]
    for events in counts:
        workdir = Path(args.dir) / f"n{events}"
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"\n== {events:,} events over {args.days} days in {workdir}", flush=True)
        print(f"{'stage':<16}{'rows in':>14}{'rows out':>14}{'seconds':>10}{'peak RSS GB':>13}  note", flush=True)
        for name in wanted:
            r = spawn(name, workdir, events, args)
            results[(name, events)] = r
            print(f"{name:<16}{fmt(r['rows_in'], ',d'):>14}{fmt(r['rows_out'], ',d'):>14}{r['seconds']:>10.1f}"
                  f"{r['peak_rss_gb']:>13.2f}  {r.get('note', '')}", flush=True)
            if r.get("failed") and name in ("generate", "price", "load"):
                print("  (later stages need this one: skipping them)", flush=True)
                break
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    if len(counts) > 1:
        print("\nseconds (peak RSS GB) per stage as the data grows:")
        print(f"{'stage':<16}" + "".join(f"{f'{n / 1e6:g}M events':>22}" for n in counts))
        for name in wanted:
            cells = []
            for n in counts:
                r = results.get((name, n))
                cells.append("-" if r is None else ("killed/failed" if r.get("failed") else
                                                    f"{r['seconds']:.1f} s ({r['peak_rss_gb']:.1f} GB)"))
            print(f"{name:<16}" + "".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
