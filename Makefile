# revloop — two commands on a fresh machine:  make demo  ·  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DATASETS ?= ../shared/datasets

.PHONY: demo test install system lint typecheck imports unit chaos schema-doc bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need (Java for Spark, PostgreSQL) and a running PostgreSQL.
system:
	@bash scripts/ensure_system.sh

demo: install system
	@bash scripts/demo.sh "$(DATASETS)"

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: install
	$(VENV)/bin/mypy

imports: install
	$(VENV)/bin/lint-imports

unit: install system
	SPARK_LOCAL_IP=127.0.0.1 $(VENV)/bin/pytest

test: lint typecheck imports unit

# The chaos suite many times over, with the scenario that restarts PostgreSQL mid-import.
chaos: install system
	SPARK_LOCAL_IP=127.0.0.1 REVLOOP_CHAOS_RUNS=$${RUNS:-10} REVLOOP_CHAOS_FULL=1 \
		$(VENV)/bin/pytest -m chaos tests/chaos

schema-doc: install
	$(VENV)/bin/revloop schema --markdown > docs/schema.md

bench: install system
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/generator.py
	$(PY) benchmarks/attribution.py
	$(PY) benchmarks/scoring.py
	$(PY) benchmarks/funnel.py --synthetic

clean:
	rm -rf $(VENV) out spark-warehouse .pytest_cache .mypy_cache .ruff_cache
