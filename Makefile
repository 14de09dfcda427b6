# aispend: two commands for a newcomer.  `make demo` sets up and shows the product; `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= /usr/bin/chromium
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: help setup demo local run dashboard dev test test-slow test-all browser bench bench-scale bench-dashboard bench-e2e bench-agents clean

help:
	@echo "make demo       set up, generate demo data, run the pipeline, serve the dashboard on 127.0.0.1:8050"
	@echo "make local      set up, then your own Claude Code and Codex logs, priced, under ~/.aispend (ARGS=...)"
	@echo "make test       set up (incl. Debian's chromium) and run the test suite"
	@echo "make test-slow  the slow tests (dagster dev, large data)"
	@echo "make dev        dagster dev on 127.0.0.1:3000 over workspace.yaml (demo config)"
	@echo "make bench      pricing benchmark: 10M events, against genai-prices in a loop (about a minute)"
	@echo "make bench-scale, make bench-dashboard   the scale (10M events) and dashboard latency benchmarks"
	@echo "make bench-e2e  aispend run end to end on 10M events of real source files, against DuckDB/Polars floors"
	@echo "make bench-agents  a heavy user's Claude Code (760 MB) and Codex (1,500 sessions) logs, against DuckDB"

$(BIN)/python:
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)

$(UV): $(BIN)/python
	@echo "==> installing uv into $(VENV)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9

# Installs the exact tree in requirements.lock (regenerate with `make lock`), then aispend itself. Compiled to
# bytecode once here: where PYTHONDONTWRITEBYTECODE is set (as on this project's machines) every process would
# otherwise compile what it imports, 4.3 s instead of 2.0 s to import dagster and the definitions.
$(VENV)/.installed: $(UV) requirements.lock pyproject.toml
	@echo "==> installing pinned dependencies from requirements.lock (about a minute)"
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@mkdir -p $(DAGSTER_HOME) && [ -f $(DAGSTER_HOME)/dagster.yaml ] || printf 'telemetry:\n  enabled: false\n' > $(DAGSTER_HOME)/dagster.yaml
	@touch $@

setup: $(VENV)/.installed

lock: $(UV)
	$(UV) pip compile --quiet pyproject.toml --extra test --python-version 3.11 -o requirements.lock

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "==> installing Debian's chromium (a few minutes)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi
	@$(CHROMIUM) --version 2>/dev/null || true

demo: setup
	$(BIN)/aispend demo

# Your own coding agents' logs (docs/sources/coding_agents.md), e.g. make local ARGS='--plan "claude max 200"'
local: setup
	$(BIN)/aispend local $(ARGS)

dev: setup
	$(BIN)/aispend demo --no-serve
	AISPEND_CONFIG=$(CURDIR)/demo/aispend.yaml $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# Workers (pytest-xdist), each taking a whole module at a time, the longest first (tests/conftest.py). On the CI
# machine's two cores the suite took 30 min in one process, 16.4 with two workers and 15.4 with three: a worker
# spends part of its time waiting on a subprocess, a server or the browser, and a third keeps both cores busy.
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 3
test: setup browser
	$(BIN)/python -m pytest -m "not slow" -q -n $(TEST_WORKERS)

test-slow: setup browser
	$(BIN)/python -m pytest -m slow -q

test-all: setup browser
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/usage_pricing.py

bench-scale: setup
	$(BIN)/python bench/scale.py --events 10M

bench-dashboard: setup browser
	$(BIN)/python bench/dashboard_latency.py

bench-e2e: setup
	$(BIN)/python bench/end_to_end.py --events 10M

bench-agents: setup
	$(BIN)/python bench/agent_logs.py

clean:
	rm -rf $(VENV) demo .dagster_home .pytest_cache
