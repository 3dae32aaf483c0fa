# make demo  - run the example DAGs against the embedded emulator (bootstraps .venv)
# make test  - lint, type-check, build the docs, then the whole test suite on the latest patch of every
#              Airflow minor the README names (AIRFLOW_VERSIONS; two suites at a time, TEST_JOBS), then a timing summary
# make test-airflow3.1 - the suite on one minor only (test-airflow2.11, -3.1, -3.2, -3.3)
# make docs  - build the documentation site (docs/, mkdocs.yml) in strict mode into site/
# make dist  - build the sdist and wheel into dist/ (the `build` frontend), check them (twine, scripts/check_dist.py)
# make test-e2e - the end-to-end suite on two live Airflow 3.3 deployments installed from the wheel: SQLite +
#                 LocalExecutor, then PostgreSQL + CeleryExecutor (Redis) + two workers + two triggerers; a browser test
#                 included (about 10 minutes)
# make airflow - a local Airflow 3.3 with the example DAGs and the emulator; prints the URL and login, Ctrl-C stops it
# make soak  - only the soak (1,000 jobs through injected faults; also part of make test on 3.3), prints its report
# make bench - triggerer scale: 100 to 100,000 watches, ours against the peers, HTTP and HTTPS (under 15 minutes; .venv-bench)
PYTHON ?= python3
comma := ,
# The latest patch of every Airflow minor the README claims, oldest first. The last one is .venv's
# (demo, lint, docs, e2e, soak, bench); every other one gets .venv-airflow<minor> (e.g. .venv-airflow3.1).
# 3.0 is not claimed (pyproject excludes it; docs/airflow-versions.md says why).
AIRFLOW_VERSIONS ?= 2.11.2 3.1.8 3.2.2 3.3.2
AIRFLOW_VERSION := $(lastword $(AIRFLOW_VERSIONS))
minor_of = $(word 1,$(subst ., ,$(1))).$(word 2,$(subst ., ,$(1)))
version_of = $(filter $(1).%,$(AIRFLOW_VERSIONS))
venv_of = $(if $(filter $(1),$(call minor_of,$(AIRFLOW_VERSION))),.venv,.venv-airflow$(1))
stamp_of = $(call venv_of,$(1))/.installed-$(call version_of,$(1))
AIRFLOW_MINORS := $(foreach version,$(AIRFLOW_VERSIONS),$(call minor_of,$(version)))
SUITES := $(addprefix test-airflow,$(AIRFLOW_MINORS))
STAMPS := $(foreach minor,$(AIRFLOW_MINORS),$(call stamp_of,$(minor)))
# Pins an Airflow minor needs against dependency releases newer than itself (what Airflow's own
# constraints file would pin; 2.11, 3.1 and 3.3 cap these themselves). 3.2.2: FastAPI 0.137+ (and
# cadwyn 9, which needs it) breaks its execution API's models, and svcs 26 unwinds the registry of
# a failed lifespan, which breaks dag.test().
AIRFLOW_PINS_3.2 := "fastapi<0.137" "cadwyn<9" "svcs<26"
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(call stamp_of,$(call minor_of,$(AIRFLOW_VERSION)))
PYTEST := pytest -q -p no:cacheprovider
# Suites run side by side (each has its own AIRFLOW_HOME, SQLite DB and emulator on a free port).
TEST_JOBS ?= 2
TIMINGS := .test-timings
# The benchmark's venv adds bench-only packages (benchmarks/requirements.txt) that the provider never depends on.
VENV_BENCH := .venv-bench
STAMP_BENCH := $(VENV_BENCH)/.installed-$(AIRFLOW_VERSION)

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

.PHONY: demo test venvs test-suites $(SUITES) test-e2e soak bench lint docs emulator clean dist e2e-system airflow browser

# One venv per Airflow version, built by uv; only .venv (the latest) carries the docs tools.
$(STAMPS): pyproject.toml Makefile
	test -x $(@D)/bin/python || $(PYTHON) -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet --upgrade pip uv
	$(@D)/bin/python -m uv pip install --quiet --python $(@D)/bin/python \
		-e ".[test,openlineage$(if $(filter $(VENV),$(@D)),$(comma)docs)]" "apache-airflow==$(patsubst .installed-%,%,$(@F))" \
		$(AIRFLOW_PINS_$(call minor_of,$(patsubst .installed-%,%,$(@F))))
	touch $@

venvs: $(STAMPS)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# lint and docs first, then the suites TEST_JOBS at a time (output kept per suite); any failing
# suite fails make test, and so does pytest's exit code 5 (no tests collected).
test: lint docs
	rm -f $(TIMINGS)
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --keep-going --output-sync=target test-suites; \
		status=$$?; echo "suite timings (wall, seconds):"; cat $(TIMINGS) 2>/dev/null; exit $$status

# Longest suite first: make -j starts prerequisites in the order listed, so the two longest start at
# once and the two shortest fill the gaps (2 cores, CI figure for 2.11, projected for 3.x: 2.11 ~400 s,
# 3.3 ~380 s with the soak, 3.2 ~320 s, 3.1 ~300 s). A minor missing from SUITE_ORDER runs after these.
SUITE_ORDER ?= 2.11 3.3 3.2 3.1
ORDERED_SUITES := $(filter $(SUITES),$(addprefix test-airflow,$(SUITE_ORDER))) \
	$(filter-out $(addprefix test-airflow,$(SUITE_ORDER)),$(SUITES))
test-suites: $(ORDERED_SUITES)

# Strict: a broken link, a missing page or a dead anchor fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# make test-airflow<minor>: the unit, integration and emulator suites (and, on the latest, the soak).
.SECONDEXPANSION:
$(SUITES): test-airflow%: $$(call stamp_of,$$*)
	@start=$$(date +%s); \
	$(call venv_of,$*)/bin/$(PYTEST) tests; status=$$?; \
	line="  Airflow $(call version_of,$*): $$(( $$(date +%s) - start ))s, pytest exit $$status"; \
	echo "$$line"; echo "$$line" >> $(TIMINGS); exit $$status

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
test-e2e: dist e2e-system browser $(STAMP_E2E)
	$(VENV_E2E)/bin/python -m uv pip install --quiet --python $(VENV_E2E)/bin/python --reinstall-package airflow-jobs-provider \
		"$$(ls dist/*.whl)[test,browser,openlineage]" $(E2E_AIRFLOW)
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

# The same deployment as test-e2e, with the example DAGs only, until Ctrl-C (scripts/local_airflow.py).
airflow: $(STAMP)
	$(BIN)/python scripts/local_airflow.py

# The browser test drives Debian's chromium (Playwright's own browser download needs the internet).
# make airflow runs from .venv, the e2e suite from .venv-e2e (which installs the wheel's [browser] extra).
browser: $(STAMP)
	test -x /usr/bin/chromium || $(SUDO) sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'
	$(BIN)/python -c 'import playwright' 2>/dev/null || $(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e ".[browser]"

emulator: $(STAMP)
	$(BIN)/jobs-emulator --port 8080

clean:
	rm -rf $(VENV) .venv-airflow* $(VENV_BENCH) $(VENV_DIST) $(VENV_E2E) $(TIMINGS) dist build site .venv-tinybird .venv-pyfaktory .pytest_cache .mypy_cache .ruff_cache
