# make demo  - run the example DAGs against the embedded emulator (bootstraps .venv)
# make test  - lint, type-check and run the whole test suite (bootstraps .venv)
PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)

.PHONY: demo test lint emulator clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e ".[test]" "apache-airflow==$(AIRFLOW_VERSION)"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q -p no:cacheprovider tests

emulator: $(STAMP)
	$(BIN)/jobs-emulator --port 8080

clean:
	rm -rf $(VENV) .venv-tinybird .venv-pyfaktory .pytest_cache .mypy_cache .ruff_cache
