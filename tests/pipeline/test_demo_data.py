"""The demo data set: reproducible, shaped like the real formats, and consistent between logs and invoices.

Expected values come from the written files themselves (gzip + json, DuckDB over the CSVs) and from
genai-prices directly, never from the generator's own frames.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml
from genai_prices import Usage, calc_price

from pipelines.config import load_config
from pipelines.sources import plan_units
from pipelines.demo import generate_demo
from pipelines.models import normalize_model, normalize_provider
from tests.support.agent_logs import claude_calls, codex_calls, jsonl
from tests.support.fx import usd_per_unit

END = date(2026, 11, 15)
DAYS = 20  # reaches back into October, so one closed month carries credits and tax
TARGET = 3_000
PRICES_PROVIDER = {"openai": "openai", "anthropic": "anthropic", "aws.bedrock": "aws", "azure.ai.openai": "azure"}
BILLERS = {"anthropic": "Anthropic", "aws": "AWS", "azure": "Microsoft", "openai": "OpenAI"}
PROVIDER_ID = {"Anthropic": "anthropic", "AWS": "aws", "Microsoft": "azure", "OpenAI": "openai"}
PROD_ACCOUNTS = ("acme-prod", "Production", "acme-prod-eu")


def _generate(out: Path) -> Path:
    return generate_demo(out, seed=7, end_date=END, days=DAYS, events_target=TARGET)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("demo")).parent


def _attrs(kvs: list[dict]) -> dict:
    out = {}
    for kv in kvs:
        (kind, value), = kv["value"].items()
        out[kv["key"]] = int(value) if kind == "intValue" else value
    return out


@pytest.fixture(scope="module")
def spans(demo) -> list[dict]:
    """Every span, flattened: its file, resource, ids, times, status and attributes."""
    rows = []
    for path in sorted((demo / "logs" / "otel").glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as fh:
            for line in fh:
                doc = json.loads(line)
                assert list(doc) == ["resourceSpans"] and len(doc["resourceSpans"]) == 1
                rs = doc["resourceSpans"][0]
                resource = _attrs(rs["resource"]["attributes"])
                (scope,) = rs["scopeSpans"]
                assert scope["scope"]["name"] == "aispend-demo"
                assert 1 <= len(scope["spans"]) <= 500
                for s in scope["spans"]:
                    rows.append({"file": path.name, "service": resource["service.name"], **s,
                                 "attrs": _attrs(s["attributes"])})
    return rows


def _model(span: dict) -> str:
    a = span["attrs"]
    return a.get("gen_ai.response.model", a["gen_ai.request.model"])


def test_same_arguments_give_byte_identical_files(demo, tmp_path):
    again = _generate(tmp_path / "again").parent
    first = {p.relative_to(demo): p.read_bytes() for p in sorted(demo.rglob("*")) if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in sorted(again.rglob("*")) if p.is_file()}
    assert sorted(first) == sorted(second)
    assert [k for k in first if first[k] != second[k]] == []
    other_seed = generate_demo(tmp_path / "seed8", seed=8, end_date=END, days=DAYS, events_target=TARGET).parent
    assert (other_seed / "billing" / "openai-focus-2026-11.csv").read_bytes() != first[
        Path("billing/openai-focus-2026-11.csv")]


def test_one_log_file_per_utc_day_holding_that_days_spans(demo, spans):
    files = sorted(p.name for p in (demo / "logs" / "otel").iterdir())
    expected = [f"{END - timedelta(days=d)}.jsonl.gz" for d in reversed(range(DAYS))]
    assert files == expected
    for s in spans:
        start = int(s["startTimeUnixNano"])
        assert re.fullmatch(r"\d+", s["startTimeUnixNano"]) and re.fullmatch(r"\d+", s["endTimeUnixNano"])
        assert int(s["endTimeUnixNano"]) >= start
        day = datetime.fromtimestamp(start // 10**9, tz=timezone.utc).date()
        assert s["file"] == f"{day}.jsonl.gz"


def test_spans_follow_the_otel_genai_shape(spans):
    assert len(spans) >= TARGET
    for s in spans:
        assert re.fullmatch(r"[0-9a-f]{32}", s["traceId"]) and re.fullmatch(r"[0-9a-f]{16}", s["spanId"])
        assert s["kind"] == 3 and s["name"] == f"chat {s['attrs']['gen_ai.request.model']}"
        a = s["attrs"]
        assert a["gen_ai.operation.name"] == "chat"
        assert a["gen_ai.provider.name"] in PRICES_PROVIDER
        assert isinstance(a["aispend.batch"], bool)
        assert a.get("gen_ai.usage.cache_read.input_tokens", 0) + a.get(
            "gen_ai.usage.cache_creation.input_tokens", 0) <= a["gen_ai.usage.input_tokens"]
        if "gen_ai.usage.cache_creation.input_tokens" in a:
            assert "claude" in a["gen_ai.request.model"]
        if "gen_ai.usage.reasoning.output_tokens" in a:
            assert a["gen_ai.usage.reasoning.output_tokens"] <= a["gen_ai.usage.output_tokens"]
    assert len({s["spanId"] for s in spans}) == len(spans)


def test_models_providers_and_the_unpriced_one(spans):
    models = {(s["attrs"]["gen_ai.provider.name"], _model(s)) for s in spans}
    assert len({m for _, m in models}) >= 8
    assert {p for p, _ in models} == set(PRICES_PROVIDER)
    assert any(m.startswith("us.") for p, m in models if p == "aws.bedrock")  # inference profiles
    assert any(s["attrs"]["gen_ai.request.model"] != s["attrs"].get("gen_ai.response.model",
                                                                      s["attrs"]["gen_ai.request.model"])
               for s in spans)  # an alias answered with a dated snapshot
    unpriced = []
    for provider, model in sorted(models):
        try:
            calc_price(Usage(input_tokens=1000, output_tokens=100), model, provider_id=PRICES_PROVIDER[provider])
        except LookupError:
            unpriced.append(model)
    assert unpriced == ["claude-opus-6"]
    tasks_on_it = {s["attrs"].get("aispend.task") for s in spans if _model(s) == "claude-opus-6"} - {None}
    assert len(tasks_on_it) == 1


def test_errors_retries_outcomes_and_attribution(spans):
    errors = [s for s in spans if s["status"]["code"] == 2]
    assert 0.01 <= len(errors) / len(spans) <= 0.06
    for s in errors:
        assert s["attrs"]["error.type"] and s["status"]["message"]
        assert s["attrs"]["gen_ai.usage.output_tokens"] == 0 and s["attrs"]["gen_ai.usage.input_tokens"] > 0
    assert all(s["status"] == {"code": 0} and "error.type" not in s["attrs"] for s in spans
               if s["status"]["code"] != 2)
    by_trace = defaultdict(list)
    for s in spans:
        by_trace[s["traceId"]].append(s)
    retried = 0
    for s in errors:
        later = [o for o in by_trace[s["traceId"]] if int(o["startTimeUnixNano"]) > int(s["startTimeUnixNano"])]
        retried += bool(later)
    assert retried / len(errors) > 0.5
    for trace in by_trace.values():
        trace.sort(key=lambda s: int(s["startTimeUnixNano"]))
        outcomes = [i for i, s in enumerate(trace) if "aispend.outcome" in s["attrs"]]
        assert outcomes == [len(trace) - 1]
        assert trace[-1]["attrs"]["aispend.outcome"] in {"success", "failure"}
    assert len(by_trace) < len(spans)  # runs have several requests
    unattributed = sum("aispend.task" not in s["attrs"] for s in spans) / len(spans)
    assert 0.005 < unattributed < 0.1
    assert any(s["attrs"]["aispend.batch"] for s in spans)
    assert all("aispend.team" in s["attrs"] and "user.id" in s["attrs"] for s in spans)


def test_weekends_are_quieter(spans):
    per_day = Counter(s["file"][:10] for s in spans)
    weekend = [n for d, n in per_day.items() if date.fromisoformat(d).weekday() >= 5]
    weekday = [n for d, n in per_day.items() if date.fromisoformat(d).weekday() < 5]
    assert max(weekend) < min(weekday)


def test_task_catalog(demo):
    tasks = yaml.safe_load((demo / "tasks.yaml").read_text())["tasks"]
    assert len(tasks) >= 12
    assert len({t["task"] for t in tasks}) == len(tasks)
    for t in tasks:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", t["task"])
        assert t["description"] and t["human_minutes"] > 0 and t["hourly_rate_usd"] > 0
        assert t["review_minutes"] >= 0 and isinstance(t["latency_sensitive"], bool)
    assert sum("eligible_models" in t for t in tasks) >= 3


def _logged_tokens(spans: list[dict]) -> pl.DataFrame:
    """Invoice-style token counts from the logs: input without cache, by day, normalized model and type."""
    rows = []
    for s in spans:
        a = s["attrs"]
        cr = a.get("gen_ai.usage.cache_read.input_tokens", 0)
        cw = a.get("gen_ai.usage.cache_creation.input_tokens", 0)
        for token_type, n in (("input", a["gen_ai.usage.input_tokens"] - cr - cw),
                              ("output", a["gen_ai.usage.output_tokens"]), ("cache_read", cr), ("cache_write", cw)):
            rows.append((s["file"][:10], a["gen_ai.provider.name"], _model(s), token_type, n))
    frame = pl.DataFrame(rows, schema=["day", "provider", "raw", "token_type", "tokens"], orient="row")
    return (frame.with_columns(normalize_provider(pl.col("provider")).alias("provider"))
            .with_columns(normalize_model(pl.col("provider"), pl.col("raw")).alias("x_model"))
            .group_by("day", "provider", "x_model", "token_type").agg(pl.col("tokens").sum())
            .filter(pl.col("tokens") > 0))


def _billing(demo: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE lines AS SELECT * FROM read_csv(?, header=true, all_varchar=true, filename=true, "
                "delim=',', quote='\"', escape='\"')",
                [str(demo / "billing" / "*.csv")])
    return con


def test_invoice_files_and_focus_columns(demo):
    names = sorted(p.name for p in (demo / "billing").iterdir())
    assert names == [f"{p}-focus-{m}.csv" for p in BILLERS for m in ("2026-10", "2026-11")]
    con = _billing(demo)
    cols = {r[0] for r in con.sql("DESCRIBE lines").fetchall()}
    assert {"x_line_id", "BillingAccountId", "SubAccountId", "ProviderName", "PublisherName", "InvoiceIssuerName",
            "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory",
            "ChargeClass", "ChargeDescription", "ChargeFrequency", "BilledCost", "EffectiveCost", "ListCost",
            "BillingCurrency", "ConsumedQuantity", "ConsumedUnit", "ServiceName", "ServiceCategory",
            "ServiceSubcategory", "SkuId", "RegionId", "ResourceId", "Tags", "x_model", "x_token_type"} <= cols
    n, ids = con.sql("SELECT count(*), count(DISTINCT x_line_id) FROM lines").fetchone()
    assert n == ids
    per_file = con.sql("SELECT filename, list(DISTINCT ProviderName) FROM lines GROUP BY 1").fetchall()
    for filename, providers in per_file:
        assert providers == [BILLERS[Path(filename).name.split("-")[0]]]
    bad_times = con.sql(r"""SELECT count(*) FROM lines WHERE NOT (
        regexp_full_match(ChargePeriodStart, '\d{4}-\d\d-\d\dT00:00:00Z')
        AND regexp_full_match(BillingPeriodStart, '\d{4}-\d\d-01T00:00:00Z'))""").fetchone()[0]
    assert bad_times == 0
    # one billing account in euros (Azure), the rest in dollars; never two currencies on one account
    currencies = con.sql("SELECT ProviderName, list(DISTINCT BillingCurrency) FROM lines GROUP BY 1 ORDER BY 1")
    assert currencies.fetchall() == [("AWS", ["USD"]), ("Anthropic", ["USD"]), ("Microsoft", ["EUR"]),
                                     ("OpenAI", ["USD"])]
    for (tags,) in con.sql("SELECT DISTINCT Tags FROM lines").fetchall():
        assert isinstance(json.loads(tags), dict)
    # money, the usual mix of charges, and the non-AI and GPU lines
    kinds = dict(con.sql("""SELECT ChargeCategory, sum(BilledCost::DOUBLE) FROM lines GROUP BY 1""").fetchall())
    assert kinds["Usage"] > 0 and kinds["Credit"] < 0 and kinds["Tax"] > 0
    gpu = con.sql("""SELECT count(*), min(ConsumedQuantity::DOUBLE), min(ServiceCategory) FROM lines
                     WHERE SkuId LIKE '%g5.12xlarge'""").fetchone()
    assert gpu[0] >= 1 and gpu[1] == 24 and gpu[2] == "Compute"
    categories = {r[0] for r in con.sql("SELECT DISTINCT ServiceCategory FROM lines").fetchall()}
    assert {"AI and Machine Learning", "Compute", "Storage"} <= categories
    assert con.sql("""SELECT count(*) FROM lines WHERE ConsumedUnit = 'Tokens' AND (x_model IS NULL
                      OR x_token_type NOT IN ('input','output','cache_read','cache_write')
                      OR ServiceSubcategory <> 'Generative AI')""").fetchone()[0] == 0
    assert con.sql("SELECT count(*) FROM lines WHERE x_model = 'claude-opus-6'").fetchone()[0] > 0


def test_invoice_covers_every_logged_token_and_a_little_more(demo, spans):
    logged = _logged_tokens(spans)
    con = _billing(demo)
    billed = con.sql(f"""SELECT left(ChargePeriodStart, 10) AS day, ProviderName, x_model, x_token_type AS token_type,
                        sum(ConsumedQuantity::DOUBLE) AS billed_tokens,
                        sum(ConsumedQuantity::DOUBLE) FILTER (WHERE SubAccountName IN {PROD_ACCOUNTS})
                          AS prod_tokens
                        FROM lines WHERE ConsumedUnit = 'Tokens' GROUP BY ALL""").pl()
    billed = billed.with_columns(pl.col("ProviderName").replace_strict(PROVIDER_ID).alias("provider"))
    # Each export trails the logs by a few days at the end of the window (invoices arrive after usage): days
    # after a provider's last billed day have logs and no line; every day up to it is billed in full.
    last = dict(billed.group_by("provider").agg(pl.col("day").max()).iter_rows())
    assert set(last) == {"anthropic", "aws", "azure", "openai"}
    lags = {p: (END - date.fromisoformat(d)).days for p, d in last.items()}
    assert all(1 <= lag <= 3 for lag in lags.values()) and len(set(lags.values())) > 1, lags
    logged = logged.with_columns(pl.col("provider").replace_strict(last).alias("last_billed"))
    late = logged.filter(pl.col("day") > pl.col("last_billed"))
    assert late.height and late["day"].min() > (END - timedelta(days=4)).isoformat()
    joined = (logged.filter(pl.col("day") <= pl.col("last_billed"))
              .join(billed, on=["day", "provider", "x_model", "token_type"], how="left"))
    assert joined["billed_tokens"].null_count() == 0
    assert (joined["billed_tokens"] >= joined["tokens"]).all()
    assert (joined["prod_tokens"] == joined["tokens"]).all()  # the instrumented accounts match the logs exactly
    share = con.sql(f"""SELECT sum(BilledCost::DOUBLE) FILTER (WHERE SubAccountName NOT IN {PROD_ACCOUNTS})
                       / sum(BilledCost::DOUBLE) FROM lines WHERE ConsumedUnit = 'Tokens'
                       AND BillingCurrency = 'USD'""").fetchone()[0]
    assert 0.02 <= share <= 0.07


def test_invoice_rates_are_genai_prices_rates(demo):
    """On-demand lines (no batch discount, no negotiated rate) bill exactly genai-prices' price for the day."""
    con = _billing(demo)
    for skus, model, provider in (
        (["gpt-4o-mini-2024-07-18-input", "gpt-4o-mini-2024-07-18-output"], "gpt-4o-mini", "openai"),
        (["USE1-NovaPro-input-tokens", "USE1-NovaPro-output-tokens"], "us.amazon.nova-pro-v1:0", "aws"),
    ):
        lines = con.sql("""SELECT left(ChargePeriodStart, 10), x_token_type, ConsumedQuantity::DOUBLE,
                           BilledCost::DOUBLE, ListCost::DOUBLE FROM lines WHERE list_contains(?, SkuId)
                           ORDER BY ALL""", params=[skus]).fetchall()
        assert len(lines) >= DAYS, model
        for day, token_type, qty, cost, list_cost in lines:
            when = datetime.fromisoformat(day).replace(hour=12, tzinfo=timezone.utc)
            usage = Usage(input_tokens=int(qty)) if token_type == "input" else Usage(output_tokens=int(qty))
            expected = float(calc_price(usage, model, provider_id=provider, genai_request_timestamp=when).total_price)
            assert cost == pytest.approx(expected, rel=1e-6), (model, day, token_type)
            assert list_cost == pytest.approx(cost, rel=1e-9)


def _usd_per_eur_before_month(day: str) -> float:
    """The ECB's rate on the last published day before the day's month."""
    return usd_per_unit("EUR", date.fromisoformat(day).replace(day=1) - timedelta(days=1))


def test_euro_lines_are_genai_prices_rates_at_a_monthly_ecb_rate(demo):
    """Azure bills in euros at prices fixed for the month: the dollar price of the day over the ECB's USD per EUR
    of the last published day before the month (the pipeline converts back at each day's rate instead)."""
    con = _billing(demo)
    lines = con.sql("""SELECT left(ChargePeriodStart, 10), x_token_type, ConsumedQuantity::DOUBLE, BilledCost::DOUBLE,
                       BillingCurrency FROM lines WHERE ProviderName = 'Microsoft' AND SkuId NOT LIKE '%-batch'
                       AND x_token_type IN ('input', 'output') ORDER BY ALL""").fetchall()
    assert len(lines) >= DAYS
    rates = set()
    for day, token_type, qty, cost, currency in lines:
        when = datetime.fromisoformat(day).replace(hour=12, tzinfo=timezone.utc)
        usage = Usage(input_tokens=int(qty)) if token_type == "input" else Usage(output_tokens=int(qty))
        usd = float(calc_price(usage, "gpt-4o-2024-08-06", provider_id="azure", genai_request_timestamp=when)
                    .total_price)
        rates.add(rate := _usd_per_eur_before_month(day))  # October's of 30 Sep; November's of Friday 30 Oct
        assert currency == "EUR" and cost == pytest.approx(usd / rate, rel=1e-6), (day, token_type)
    assert len(rates) == 2


def test_negotiated_rate_shows_as_list_above_billed(demo):
    config = load_config(demo / "aispend.yaml")
    (override,) = config.prices.overrides
    con = _billing(demo)
    before, after = con.sql("""SELECT
        bool_and(abs(BilledCost::DOUBLE - ListCost::DOUBLE) < 1e-9) FILTER (WHERE ChargePeriodStart < ?),
        bool_and(BilledCost::DOUBLE < ListCost::DOUBLE) FILTER (WHERE ChargePeriodStart >= ?)
        FROM lines WHERE x_model = ? AND ChargeCategory = 'Usage'""",
                            params=[override.valid_from.isoformat()] * 2 + [override.model]).fetchone()
    assert before and after


def test_config_loads_and_points_at_the_files(demo):
    config = load_config(demo / "aispend.yaml")
    assert [(s.name, s.kind) for s in config.sources][:2] == [("billing", "focus"), ("app_logs", "otel_genai")]
    assert [(s.name, s.kind) for s in _agent_sources(config)] == [
        ("claude_ana", "claude_code_logs"), ("claude_ben", "claude_code_logs"), ("codex_chen", "codex_logs")]
    assert {(s.options.user_id, s.options.team) for s in _agent_sources(config)} == {
        ("ana", "engineering"), ("ben", "engineering"), ("chen", "data")}
    assert len(plan_units(config, config.sources[0])) == 8
    assert len(plan_units(config, config.sources[1])) == DAYS
    assert config.task_catalog_path == (demo / "tasks.yaml").resolve()
    assert config.warehouse_path == (demo / "warehouse" / "aispend.duckdb").resolve()
    assert len(config.prices.overrides) == 1 and config.prices.overrides[0].input_usd_per_mtok > 0
    assert [b.name for b in config.budgets][0] == "total" and all(b.monthly_usd > 0 for b in config.budgets)


# --- coding agents -----------------------------------------------------------------------------------------


def _agent_sources(config) -> list:
    return [s for s in config.sources if s.kind in ("claude_code_logs", "codex_logs")]


def test_agent_logs_hold_the_traps(demo):
    agents = demo / "agents"
    assert sorted(p.name for p in agents.iterdir()) == ["ana", "ben", "chen"]
    rows = {p: jsonl(p) for p in sorted(agents.rglob("*.jsonl"))}
    assistant = [r for p, rs in rows.items() if "/claude/" in str(p) for r in rs if r["type"] == "assistant"]
    ids = Counter(r["message"]["id"] for r in assistant)
    assert max(ids.values()) >= 3  # a response streamed over three lines
    assert any(r["message"]["model"] == "<synthetic>" for r in assistant)
    subagents = [p for p in rows if p.parent.name == "subagents"]
    assert subagents and all(r.get("isSidechain") for p in subagents for r in rows[p][1:])
    for sub in subagents:  # each repeats the parent's entry that launched it
        parent = sub.parent.parent.with_suffix(".jsonl")
        assert rows[sub][0] in rows[parent]
    writes_1h = {p.parts[len(agents.parts)]: r["message"]["usage"]["cache_creation"]["ephemeral_1h_input_tokens"]
                 for p, rs in rows.items() if "/claude/" in str(p) for r in rs if r["type"] == "assistant"
                 and "cache_creation" in r["message"]["usage"] and r["message"]["usage"]["cache_creation"][
                     "ephemeral_1h_input_tokens"]}
    assert set(writes_1h) == {"ana"}
    codex = [r for p, rs in rows.items() if "/codex/" in str(p) for r in rs]
    counts = [r for r in codex if r["type"] == "event_msg" and r["payload"]["type"] == "token_count"]
    assert any(r["payload"]["info"] is None for r in counts)
    with_info = [r["payload"]["info"] for r in counts if r["payload"]["info"]]
    assert any("last_token_usage" not in i for i in with_info) and any("last_token_usage" in i for i in with_info)
    totals = [json.dumps(i["total_token_usage"]) for i in with_info]
    assert len(set(totals)) < len(totals)  # some events repeat the previous total


def test_agent_logs_load_each_call_once(demo):
    """Rows and tokens the readers load equal the rules applied by hand to the written files."""
    config = load_config(demo / "aispend.yaml")
    for source in _agent_sources(config):
        events = pl.concat([u.load() for u in plan_units(config, source)])
        folder = Path(config.resolve(source.path))
        if source.kind == "claude_code_logs":
            calls = list(claude_calls(folder).values())
            expected = {"input_tokens": sum(u["input_tokens"] for u in calls),
                        "cache_read_tokens": sum(u["cache_read_input_tokens"] for u in calls),
                        "cache_write_tokens": sum(u["cache_creation_input_tokens"] for u in calls),
                        "output_tokens": sum(u["output_tokens"] for u in calls)}
        else:
            calls = codex_calls(folder)
            expected = {"input_tokens": sum(u["input_tokens"] - u["cached_input_tokens"] for u in calls),
                        "cache_read_tokens": sum(u["cached_input_tokens"] for u in calls),
                        "cache_write_tokens": 0,
                        "output_tokens": sum(u["output_tokens"] for u in calls)}
        assert events.height == len(calls) > 0, source.name
        assert events.select(*expected).sum().row(0, named=True) == expected, source.name
        assert set(events["user_id"]) == {source.options.user_id} and set(events["task"]) == {"coding_agent"}
