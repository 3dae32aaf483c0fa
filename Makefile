# make demo  - run the example DAGs against the embedded emulator (bootstraps .venv)
# make test  - lint, type-check, build the docs, then the whole test suite on the latest patch of every
#              Airflow minor the README names (AIRFLOW_VERSIONS; two suites at a time, TEST_JOBS), then a timing summary
# make test-airflow3.1 - the suite on one minor only (test-airflow2.11, -3.1, -3.2, -3.3)
# make docs  - build the documentation site (docs/, mkdocs.yml) in strict mode into site/
# make test-e2e - the end-to-end suite against a live Airflow 3.3 deployment (about 3 minutes)
# make soak  - only the soak (1,000 jobs through injected faults; also part of make test on 3.3), prints its report
# make bench - triggerer scale: 100 to 10,000 watches, ours against the peers (about 6 minutes; .venv-bench)
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

.PHONY: demo test venvs test-suites $(SUITES) test-e2e soak bench lint docs emulator clean

# One venv per Airflow version, built by uv; only .venv (the latest) carries the docs tools.
$(STAMPS): pyproject.toml Makefile
	test -x $(@D)/bin/python || $(PYTHON) -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet --upgrade pip uv
	$(@D)/bin/python -m uv pip install --quiet --python $(@D)/bin/python \
		-e ".[test$(if $(filter $(VENV),$(@D)),$(comma)docs)]" "apache-airflow==$(patsubst .installed-%,%,$(@F))" \
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

test-suites: $(SUITES)

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

# A live Airflow 3.3 (api-server, scheduler, dag-processor, triggerer) and the emulator on loopback.
test-e2e: $(STAMP)
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

emulator: $(STAMP)
	$(BIN)/jobs-emulator --port 8080

clean:
	rm -rf $(VENV) .venv-airflow* $(VENV_BENCH) $(TIMINGS) site .venv-tinybird .venv-pyfaktory .pytest_cache .mypy_cache .ruff_cache
