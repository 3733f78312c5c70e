# OrderHub: `make demo` runs the demo, `make test` runs every check CI runs.
#
# Helpers: make install | install-test | node-deps | postgres-server | browser | lint |
#          test-sqlite | test-postgres | pg-start | pg-stop | bench | clean
# Variables: HOST, PORT (demo), PYTEST_ARGS (extra pytest arguments), PYTHON (interpreter
#            for the virtualenv), VENV (its directory).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

BIN := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Install steps are skipped when nothing they depend on changed: each leaves a stamp file
# named after the checksum of its input, so an edit of pyproject.toml or package-lock.json
# (or a deleted .venv / node_modules) makes the next run install again.
sum = $(shell sha256sum $(1) 2>/dev/null | cut -c1-16)
PY_SUM := $(call sum,pyproject.toml)
LOCK_SUM := $(call sum,package-lock.json)
STAMP_BASE := $(VENV)/.orderhub-install-$(PY_SUM)
STAMP_TEST := $(VENV)/.orderhub-install-test-$(PY_SUM)
STAMP_NODE := node_modules/.orderhub-npm-ci-$(LOCK_SUM)

section = printf '\n\033[1m==== %s ====\033[0m\n' "$(1)"

.PHONY: help demo test install install-test node-deps postgres-server browser lint test-sqlite \
	test-postgres pg-start pg-stop bench clean

help:
	@echo "make demo   install and run the demo (open http://$(HOST):$(PORT))"
	@echo "make test   install what tests need, run ruff and the test suite on SQLite and PostgreSQL"

# --- installing -------------------------------------------------------------------------------

$(BIN)/python:
	@$(call section,creating $(VENV) with $(PYTHON))
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
		|| { echo "OrderHub needs Python 3.11 ($(PYTHON) is not): set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP_BASE): | $(BIN)/python
	@$(call section,pip install -e .)
	$(BIN)/python -m pip install -q -e .
	@rm -f $(VENV)/.orderhub-install-[0-9a-f]*; touch $@

$(STAMP_TEST): | $(BIN)/python
	@$(call section,pip install -e '.[test]')
	$(BIN)/python -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.orderhub-install-*; touch $@ $(STAMP_BASE)

install: $(STAMP_BASE)
install-test: $(STAMP_TEST)

# npm ci only when the project has a lock file (front-end assets such as htmx).
node-deps:
	@if [ -f package-lock.json ]; then \
		if [ -f "$(STAMP_NODE)" ]; then echo "node_modules up to date with package-lock.json"; \
		else $(call section,npm ci); \
			command -v npm >/dev/null || { echo "npm not found: install Node.js with npm" >&2; exit 1; }; \
			npm ci --no-audit --no-fund; touch "$(STAMP_NODE)"; fi; \
	fi

# The PostgreSQL server for the second test run (apt-get install when it is missing).
postgres-server:
	@scripts/pg.sh install

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
# and the CJK font the OCR tests render chat screenshots with.
browser:
	@if [ -x scripts/browser.sh ]; then scripts/browser.sh install; fi
	@scripts/fonts.sh install >/dev/null

# --- the demo ---------------------------------------------------------------------------------

demo: install node-deps
	@$(call section,orderhub demo on http://$(HOST):$(PORT))
	$(BIN)/orderhub demo --host $(HOST) --port $(PORT)

# --- tests ------------------------------------------------------------------------------------

lint: install-test
	@$(call section,ruff check .)
	$(BIN)/ruff check .

test-sqlite: install-test node-deps browser
	@$(call section,pytest on SQLite)
	env -u DATABASE_URL $(PYTEST) $(PYTEST_ARGS)

# Starts the throwaway cluster (scripts/pg.sh) unless it already runs, and stops it afterwards
# only if this target started it.
test-postgres: install-test node-deps browser postgres-server
	@$(call section,pytest on PostgreSQL)
	@started=0; \
	if ! scripts/pg.sh status 2>/dev/null; then started=1; fi; \
	url=$$(scripts/pg.sh start); \
	if [ $$started = 1 ]; then trap 'scripts/pg.sh stop' EXIT; fi; \
	echo "DATABASE_URL=$$url"; \
	echo "$(PYTEST) $(PYTEST_ARGS)"; \
	DATABASE_URL=$$url $(PYTEST) $(PYTEST_ARGS)

# Both suites run even when the first fails, so one run tells everything; the target fails
# if lint or either suite failed.
test: install-test node-deps browser postgres-server
	@failed=(); \
	$(MAKE) --no-print-directory lint || failed+=(ruff); \
	$(MAKE) --no-print-directory test-sqlite || failed+=("pytest on SQLite"); \
	$(MAKE) --no-print-directory test-postgres || failed+=("pytest on PostgreSQL"); \
	$(call section,summary); \
	if [ $${#failed[@]} -gt 0 ]; then \
		printf 'FAILED: %s\n' "$${failed[@]}"; exit 1; \
	fi; \
	echo "ruff, pytest on SQLite and pytest on PostgreSQL all passed"

pg-start: postgres-server
	@scripts/pg.sh start

pg-stop:
	@scripts/pg.sh stop

# --- benchmarks (run on purpose, never by CI) -------------------------------------------------

bench: install-test postgres-server
	$(BIN)/python bench/transitions.py $(BENCH_ARGS)

clean:
	rm -rf .pytest_cache .ruff_cache test.sqlite3 test.sqlite3-shm test.sqlite3-wal
