# make demo  - run the example DAGs against the embedded emulator (bootstraps .venv)
# make test  - lint, type-check, build the docs, then run the whole test suite on Airflow 3.3 (.venv) and 2.11 (.venv-airflow2)
# make docs  - build the documentation site (docs/, mkdocs.yml) in strict mode into site/
# make dist  - build the sdist and wheel into dist/ (the `build` frontend), check them (twine, scripts/check_dist.py)
# make test-e2e - the end-to-end suite on two live Airflow 3.3 deployments installed from the wheel: SQLite +
#                 LocalExecutor, then PostgreSQL + CeleryExecutor (Redis) + two workers + two triggerers (about 9 minutes)
# make soak  - only the soak (1,000 jobs through injected faults; also part of make test), prints its report
# make bench - triggerer scale: 100 to 10,000 watches, ours against the peers (about 6 minutes; .venv-bench)
PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)
# The oldest Airflow the provider supports gets a venv of its own; demo, lint and emulator use .venv.
AIRFLOW2_VERSION ?= 2.11.2
VENV2 := .venv-airflow2
BIN2 := $(VENV2)/bin
STAMP2 := $(VENV2)/.installed-$(AIRFLOW2_VERSION)
PYTEST := pytest -q -p no:cacheprovider
# The benchmark's venv adds bench-only packages (benchmarks/requirements.txt) that the provider never depends on.
VENV_BENCH := .venv-bench
STAMP_BENCH := $(VENV_BENCH)/.installed-$(AIRFLOW_VERSION)

.PHONY: demo test test-airflow3 test-airflow2 test-e2e soak bench lint docs emulator clean dist e2e-system
# make dist's tools, and the e2e venv: Airflow with the executor and database extras the
# production-shaped deployment needs, and the provider from dist/*.whl (never the source tree).
VENV_DIST := .venv-dist
STAMP_DIST := $(VENV_DIST)/.installed
VENV_E2E := .venv-e2e
STAMP_E2E := $(VENV_E2E)/.installed-$(AIRFLOW_VERSION)
# celery 5.6.3 dropped celery.backends.database.retry, which apache-airflow-providers-celery 3.26.0 imports.
E2E_AIRFLOW := "apache-airflow[celery,postgres]==$(AIRFLOW_VERSION)" apache-airflow-providers-celery==3.26.0 \
	apache-airflow-providers-postgres==7.1.1 "celery[redis]==5.6.2"
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e ".[test,docs,openlineage]" "apache-airflow==$(AIRFLOW_VERSION)"
	touch $(STAMP)

$(STAMP2): pyproject.toml Makefile
	test -x $(BIN2)/python || $(PYTHON) -m venv $(VENV2)
	$(BIN2)/python -m pip install --quiet --upgrade pip uv
	$(BIN2)/python -m uv pip install --quiet --python $(BIN2)/python -e ".[test,openlineage]" "apache-airflow==$(AIRFLOW2_VERSION)"
	touch $(STAMP2)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint docs test-airflow3 test-airflow2

# Strict: a broken link, a missing page or a dead anchor fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

test-airflow3: $(STAMP)
	$(BIN)/$(PYTEST) tests

test-airflow2: $(STAMP2)
	$(BIN2)/$(PYTEST) tests

$(STAMP_DIST): Makefile
	test -x $(VENV_DIST)/bin/python || $(PYTHON) -m venv $(VENV_DIST)
	$(VENV_DIST)/bin/python -m pip install --quiet --upgrade pip uv
	$(VENV_DIST)/bin/python -m uv pip install --quiet --python $(VENV_DIST)/bin/python "build>=1.2" "twine>=6"
	touch $(STAMP_DIST)

dist: $(STAMP_DIST)
	rm -rf dist build
	$(VENV_DIST)/bin/python -m build --installer uv --outdir dist .
	$(VENV_DIST)/bin/twine check --strict dist/*
	$(VENV_DIST)/bin/python scripts/check_dist.py dist

# PostgreSQL and Redis from Debian when missing; the suite runs its own throwaway instances of both.
e2e-system:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null; then :; else \
		echo "installing postgresql and redis-server (Debian)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql redis-server; fi

$(STAMP_E2E): pyproject.toml Makefile
	test -x $(VENV_E2E)/bin/python || $(PYTHON) -m venv $(VENV_E2E)
	$(VENV_E2E)/bin/python -m pip install --quiet --upgrade pip uv
	$(VENV_E2E)/bin/python -m uv pip install --quiet --python $(VENV_E2E)/bin/python $(E2E_AIRFLOW)
	touch $(STAMP_E2E)

# Two live Airflow 3.3 deployments on loopback, one after the other, each with the emulator (jobs-emulator from
# the wheel): SQLite + LocalExecutor (tests/e2e), then PostgreSQL + Celery + two triggerers (tests/e2e/prod).
test-e2e: dist e2e-system $(STAMP_E2E)
	$(VENV_E2E)/bin/python -m uv pip install --quiet --python $(VENV_E2E)/bin/python --reinstall-package airflow-jobs-provider \
		"$$(ls dist/*.whl)[test,openlineage]" $(E2E_AIRFLOW)
	JOBS_E2E=1 $(VENV_E2E)/bin/$(PYTEST) -m e2e tests/e2e --ignore=tests/e2e/prod
	JOBS_E2E=1 $(VENV_E2E)/bin/$(PYTEST) -m e2e tests/e2e/prod

$(STAMP_BENCH): pyproject.toml Makefile benchmarks/requirements.txt
	test -x $(VENV_BENCH)/bin/python || $(PYTHON) -m venv $(VENV_BENCH)
	$(VENV_BENCH)/bin/python -m pip install --quiet --upgrade pip uv
	$(VENV_BENCH)/bin/python -m uv pip install --quiet --python $(VENV_BENCH)/bin/python -e . \
		"apache-airflow==$(AIRFLOW_VERSION)" -r benchmarks/requirements.txt
	touch $(STAMP_BENCH)

# Not part of make test: it measures, it does not check (targets met or not are in its report).
bench: $(STAMP_BENCH)
	$(VENV_BENCH)/bin/python -m benchmarks.scale

soak: $(STAMP)
	$(BIN)/$(PYTEST) -m soak tests/soak

emulator: $(STAMP)
	$(BIN)/jobs-emulator --port 8080

clean:
	rm -rf $(VENV) $(VENV2) $(VENV_BENCH) $(VENV_DIST) $(VENV_E2E) dist build site .venv-tinybird .venv-pyfaktory .pytest_cache .mypy_cache .ruff_cache
