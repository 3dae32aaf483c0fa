# make demo  - run the example DAGs against the embedded emulator (bootstraps .venv)
# make test  - lint, type-check, build the docs, then run the whole test suite on Airflow 3.3 (.venv) and 2.11 (.venv-airflow2)
# make docs  - build the documentation site (docs/, mkdocs.yml) in strict mode into site/
# make test-e2e - the end-to-end suite against a live Airflow 3.3 deployment, a browser test included (about 5 minutes)
# make airflow - a local Airflow 3.3 with the example DAGs and the emulator; prints the URL and login, Ctrl-C stops it
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

.PHONY: demo test test-airflow3 test-airflow2 test-e2e soak bench lint docs emulator clean airflow browser

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e ".[test,docs]" "apache-airflow==$(AIRFLOW_VERSION)"
	touch $(STAMP)

$(STAMP2): pyproject.toml Makefile
	test -x $(BIN2)/python || $(PYTHON) -m venv $(VENV2)
	$(BIN2)/python -m pip install --quiet --upgrade pip uv
	$(BIN2)/python -m uv pip install --quiet --python $(BIN2)/python -e ".[test]" "apache-airflow==$(AIRFLOW2_VERSION)"
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

# A live Airflow 3.3 (api-server, scheduler, dag-processor, triggerer) and the emulator on loopback.
test-e2e: $(STAMP) browser
	JOBS_E2E=1 $(BIN)/$(PYTEST) -m e2e tests/e2e

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

# The same deployment as test-e2e, with the example DAGs only, until Ctrl-C (scripts/local_airflow.py).
airflow: $(STAMP)
	$(BIN)/python scripts/local_airflow.py

# The browser test drives Debian's chromium (Playwright's own browser download needs the internet).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser: $(STAMP)
	test -x /usr/bin/chromium || $(SUDO) sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'
	$(BIN)/python -c 'import playwright' 2>/dev/null || $(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e ".[browser]"

emulator: $(STAMP)
	$(BIN)/jobs-emulator --port 8080

clean:
	rm -rf $(VENV) $(VENV2) $(VENV_BENCH) site .venv-tinybird .venv-pyfaktory .pytest_cache .mypy_cache .ruff_cache
