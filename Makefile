# daf_drf developer commands. `make help` lists them.
#
# Everything runs from a local virtualenv (VENV, default .venv) that these targets create and
# fill on first use; later runs skip the install unless pyproject.toml changed.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k throttle -x"`.
PYTEST_ARGS ?=
# Extra arguments for bench/run.py, e.g. `make bench BENCH_ARGS="--duration 5"`.
BENCH_ARGS ?=
# Directories linted and formatted; those not present yet are skipped.
LINT_PATHS := $(wildcard daf_drf tests compat bench example)

.DEFAULT_GOAL := help
.PHONY: help install test test-pg-lifecycle soak lint fmt docs dist demo bench matrix-oldest matrix-newest matrix-locked ci clean

help:
	@echo "make demo            serve the example project on http://$(HOST):$(PORT)/ (no services needed)"
	@echo "make test            the whole suite next to a throwaway redis-server, then its database tests on a throwaway PostgreSQL"
	@echo "make test-pg-lifecycle  PostgreSQL connection lifecycle, 10,000 requests per combination"
	@echo "make soak            the 10-minute soak test (SOAK_SECONDS=600) next to a redis-server"
	@echo "make lint            ruff check, ruff format --check, mypy --strict"
	@echo "make fmt             ruff format and ruff check --fix"
	@echo "make docs            mkdocs build --strict into site/"
	@echo "make dist            build the sdist and the wheel into dist/ and twine-check them"
	@echo "make bench           every benchmark: load runs with wrk, in-process costs, fan-out latency"
	@echo "make bench-realistic a startproject + DRF quickstart project on PostgreSQL: every peer, 6 cases"
	@echo "make matrix-oldest   suite on Python 3.11 + Django 5.2 + DRF 3.16 (.venv-oldest)"
	@echo "make matrix-newest   suite on Python 3.12 + Django 6.1 + DRF 3.18 (.venv-newest)"
	@echo "make matrix-locked   suite on exactly ci/requirements-lock.txt (.venv-locked)"
	@echo "make ci              what CI runs: bash .ci/run"
	@echo "make clean           remove virtualenvs and build output"

install:
	@scripts/venv.sh $(VENV) $(PYTHON) test,tasks

test:
	@scripts/venv.sh $(VENV) $(PYTHON) test,tasks
	@scripts/with-redis.sh scripts/with-postgres.sh scripts/run-tests.sh $(PY) $(PYTEST_ARGS)

# The PostgreSQL connection-lifecycle test at full size (10,000 requests per combination);
# `make test` runs it with 400. LIFECYCLE_REQUESTS overrides the count.
test-pg-lifecycle:
	@scripts/venv.sh $(VENV) $(PYTHON) test,tasks
	@DAF_DRF_TEST_DATABASE=postgres DAF_DRF_LIFECYCLE_REQUESTS=$${LIFECYCLE_REQUESTS:-10000} \
		scripts/with-postgres.sh $(PY) -m pytest tests/test_postgres_lifecycle.py -p no:randomly $(PYTEST_ARGS)

soak:
	@scripts/venv.sh $(VENV) $(PYTHON) test,tasks
	@SOAK_SECONDS=$${SOAK_SECONDS:-600} scripts/with-redis.sh scripts/run-tests.sh $(PY) \
		tests/reliability/test_soak.py -p no:randomly $(PYTEST_ARGS)

lint:
	@scripts/venv.sh $(VENV) $(PYTHON) test,tasks,lint
	@# Run all three and fail at the end, so one run reports every problem.
	@status=0; \
	echo "$(PY) -m ruff check $(LINT_PATHS)"; $(PY) -m ruff check $(LINT_PATHS) || status=1; \
	echo "$(PY) -m ruff format --check $(LINT_PATHS)"; \
	$(PY) -m ruff format --check $(LINT_PATHS) || status=1; \
	echo "$(PY) -m mypy"; $(PY) -m mypy || status=1; \
	exit $$status

fmt:
	@scripts/venv.sh $(VENV) $(PYTHON) lint
	$(PY) -m ruff format $(LINT_PATHS)
	$(PY) -m ruff check --fix $(LINT_PATHS)

docs:
	@scripts/venv.sh $(VENV) $(PYTHON) docs
	$(PY) scripts/check_docs.py
	$(PY) -m mkdocs build --strict --site-dir site
	$(PY) scripts/check_docs.py --site site

dist:
	@scripts/venv.sh $(VENV) $(PYTHON) dist
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

demo:
	@scripts/venv.sh $(VENV) $(PYTHON) demo
	@HOST=$(HOST) PORT=$(PORT) scripts/demo.sh $(PY)

bench:
	@scripts/venv.sh $(VENV) $(PYTHON) bench,tasks
	@scripts/ensure-redis.sh
	@scripts/ensure-wrk.sh
	$(PY) -m bench.run
	$(PY) -m bench.microbench
	$(PY) bench/serializers_inprocess.py
	$(PY) bench/asgi_inprocess.py
	$(PY) bench/fanout.py
	$(PY) bench/store_checks.py

# The realistic project (bench/realistic/): load run, then in-process cost and hops per request,
# next to a throwaway PostgreSQL. BENCH_REALISTIC_ARGS, e.g. "--duration 3 --rounds 1".
BENCH_REALISTIC_ARGS ?=
.PHONY: bench-realistic
bench-realistic:
	@scripts/venv.sh $(VENV) $(PYTHON) bench,tasks
	@scripts/ensure-redis.sh
	@scripts/ensure-wrk.sh
	@DAF_DRF_PG_MAX_CONNECTIONS=200 scripts/with-postgres.sh sh -c \
		'$(PY) -m bench.realistic.run $(BENCH_REALISTIC_ARGS) && $(PY) -m bench.realistic.microbench'

matrix-oldest:
	@scripts/matrix.sh oldest $(PYTEST_ARGS)

matrix-newest:
	@scripts/matrix.sh newest $(PYTEST_ARGS)

matrix-locked:
	@scripts/matrix.sh locked $(PYTEST_ARGS)

ci:
	bash .ci/run

clean:
	rm -rf .venv-oldest .venv-newest .venv-locked site dist build .mypy_cache .ruff_cache .pytest_cache
	@echo "Left $(VENV) in place; remove it by hand if you want a fresh one."
