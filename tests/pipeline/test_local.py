"""`aispend local`: a person's own coding-agent logs, found under a fake HOME, priced, served.

The served Overview's figures must equal plain SQL over the warehouse the command built; with no logs the
command exits non-zero naming every folder it looked in, never with a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines import local
from pipelines.config import load_config
from tests.support.browser import artifacts_dir, chromium, free_port, open_page, wait_for_http, wait_text

REPO = Path(__file__).resolve().parents[2]
AGENTS = REPO / "tests" / "fixtures" / "agents"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CODEX_HOME", "CLAUDE_CONFIG_DIR")}
    return {**env, "HOME": str(home), **extra}


def _aispend(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "local", *args], capture_output=True, text=True,
                          cwd=REPO, env=_env(home, **env), timeout=900)


def _home(tmp_path: Path, claude: bool = True, codex: bool = True) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    if claude:
        shutil.copytree(AGENTS / "claude", home / ".claude")
    if codex:
        shutil.copytree(AGENTS / "codex", home / ".codex")
    return home


def test_neither_folder_exits_non_zero_naming_what_it_looked_for(tmp_path):
    home = tmp_path / "home"
    (home / ".claude" / "projects").mkdir(parents=True)  # there, but empty
    done = _aispend(home, "--no-serve")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    for looked in (home / ".claude" / "projects", home / ".config" / "claude" / "projects",
                   home / ".codex" / "sessions"):
        assert str(looked) in done.stderr
    assert "no *.jsonl session files" in done.stderr
    assert "no such folder" in done.stderr and "--claude-dir" in done.stderr
    assert not (home / ".aispend").exists()


def test_a_folder_given_but_missing_is_an_error(tmp_path):
    home = _home(tmp_path)
    done = _aispend(home, "--no-serve", "--codex-dir", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"Codex CLI: {tmp_path / 'nowhere'} (no such folder)" in done.stderr


def test_a_bad_plan_is_refused_before_anything_runs(tmp_path):
    home = _home(tmp_path)
    done = _aispend(home, "--no-serve", "--plan", "cursor enterprise")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--plan 'cursor enterprise': no list price known for that plan" in done.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("claude max 200", ("anthropic", "max_20x", 200.0, "USD")),
    ("Claude Max 100", ("anthropic", "max_5x", 100.0, "USD")),
    ("claude max 5x", ("anthropic", "max_5x", 100.0, "USD")),
    ("claude max", ("anthropic", "max_5x", 100.0, "USD")),  # the plan table's reading of a bare "max"
    ("claude pro", ("anthropic", "pro", 20.0, "USD")),
    ("chatgpt plus", ("openai", "plus", 20.0, "USD")),
    ("chatgpt pro 229 eur", ("openai", "pro", 229.0, "EUR")),
    ("cursor business", ("cursor", "teams", 40.0, "USD")),
    ("copilot pro+", ("github", "pro_plus", 39.0, "USD")),
])
def test_plans(text, expected):
    plan = local.parse_plan(text)
    assert (plan.vendor, plan.plan, plan.monthly_price, plan.currency) == expected


@pytest.mark.parametrize("text", ["gemini pro", "claude", "chatgpt plus 20 30", "cursor enterprise"])
def test_plans_refused(text):
    with pytest.raises(local.LocalError):
        local.parse_plan(text)


def test_folders_from_the_agents_own_variables(tmp_path):
    home = tmp_path / "home"
    claude = tmp_path / "cc"
    shutil.copytree(AGENTS / "claude", claude)
    codex = tmp_path / "cx"
    shutil.copytree(AGENTS / "codex", codex)
    agents = local.find_agents({"CLAUDE_CONFIG_DIR": str(claude), "CODEX_HOME": str(codex)}, home)
    assert [(a.folder, a.files, a.vendor) for a in agents] == [(claude / "projects", 4, "anthropic"),
                                                              (codex / "sessions", 2, "openai")]
    # without the variables: ~/.config/claude/projects when ~/.claude/projects has no logs
    shutil.copytree(AGENTS / "claude" / "projects", home / ".config" / "claude" / "projects")
    (home / ".claude" / "projects").mkdir(parents=True)
    claude_agent, codex_agent = local.find_agents({}, home)
    assert claude_agent.folder == home / ".config" / "claude" / "projects" and codex_agent.folder is None


def test_config_is_rewritten_unless_edited_and_plans_keep_their_start(tmp_path):
    out = tmp_path / "out"
    home = _home(tmp_path)
    session = next((home / ".claude" / "projects").rglob("*.jsonl"))
    os.utime(session, (datetime(2026, 8, 20, 12, tzinfo=timezone.utc).timestamp(),) * 2)  # the oldest log
    agents = local.find_agents({}, home)
    said: list[str] = []
    path = local.write_config(out, agents, [local.parse_plan("claude max 200")], said.append, date(2026, 10, 9))
    config = load_config(path)
    assert [(s.name, s.kind) for s in config.sources] == [
        ("claude_code", "claude_code_logs"), ("codex", "codex_logs"), ("subscriptions", "subscriptions")]
    assert {s.options.user_id for s in config.sources[:2]} == {local.login_name()}
    assert config.warehouse_path == out / "warehouse" / "aispend.duckdb"
    plans = yaml.safe_load((out / "subscriptions.yaml").read_text())["subscriptions"]
    # a Claude plan starts the month the Claude Code logs begin (the oldest session file's last write)
    assert plans == [{"vendor": "anthropic", "plan": "max_20x", "person": local.login_name(), "monthly_price": 200.0,
                      "currency": "USD", "start": date(2026, 8, 1)}]
    local.write_config(out, agents, [local.parse_plan("claude max 200"), local.parse_plan("cursor pro")],
                       said.append, date(2026, 12, 2))
    starts = [p["start"] for p in yaml.safe_load((out / "subscriptions.yaml").read_text())["subscriptions"]]
    assert starts == [date(2026, 8, 1), date(2026, 12, 1)]  # kept; no Cursor logs: this month
    edited = path.read_text().split("\n", 1)[1] + "budgets:\n  - {name: me, monthly_usd: 300}\n"
    path.write_text(edited)
    local.write_config(out, agents, [], said.append)
    assert path.read_text() == edited and "using your edited" in said[-1]


def test_serves_a_dashboard_whose_totals_equal_the_warehouse(tmp_path):
    """The whole command as a person runs it, with a fake HOME holding both agents' folders."""
    home = _home(tmp_path)
    port = free_port()
    log_path = tmp_path / "local.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "local", "--port", str(port), "--plan", "claude max 200"],
            cwd=REPO, env=_env(home), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/_dash-layout", 600, process)
        output = log_path.read_text()
        assert "Claude Code: 4 session files" in output and "Codex CLI: 2 session files" in output
        assert "your plan: anthropic max_20x 200 USD/month" in output
        db = home / ".aispend" / "warehouse" / "aispend.duckdb"
        con = duckdb.connect(str(db), read_only=True)
        requests, cost, first, last = con.sql(
            "SELECT count(*), sum(cost_usd), min(event_time)::DATE, max(event_time)::DATE FROM usage_events").fetchone()
        by_source = dict(con.sql("SELECT x_source, count(*) FROM usage_events GROUP BY 1").fetchall())
        con.close()
        assert by_source == {"claude_code": 6, "codex": 6}
        with chromium() as browser:
            page, console = open_page(browser)
            page.goto(f"{url}/?start={first}&end={last}")
            wait_text(page, "#overview-requests", f"{requests:,}")
            assert page.inner_text("#overview-priced-cost").strip() == f"${cost:,.2f}"
            assert "No invoices loaded" in page.inner_text("#overview-no-invoices")  # never "$0.00 billed"
            assert page.locator("#overview-billed-value-USD").count() == 0
            page.wait_for_selector("#overview-spend-chart .main-svg")
            assert "Daily priced cost from the request logs" in page.inner_text("#overview-spend-chart")
            page.screenshot(path=str(artifacts_dir(tmp_path) / "local-overview.png"), full_page=True)
            page.goto(f"{url}/tasks?start={first}&end={last}")
            page.wait_for_selector("#table-tasks tbody tr")
            row = page.inner_text("#table-tasks tbody tr")
            assert "coding_agent" in row and "no time valued" in row and "loses money" not in row
            page.goto(f"{url}/reconciliation?start={first}&end={last}")
            assert "No invoices loaded" in page.inner_text("#reconciliation-no-invoices")
            console.assert_clean()
    except Exception as exc:
        raise AssertionError(f"{exc}\n--- aispend local output ---\n{log_path.read_text()[-6000:]}") from exc
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)
