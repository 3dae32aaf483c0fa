"""The layout holds what it promises: the emulator stays outside the provider's import graph, the
package root stays small, and trigger rows stored by earlier releases still load."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_jobs_provider

PACKAGE = Path(airflow_jobs_provider.__file__).parent
PROVIDER_MODULES = sorted(
    module.name
    for module in pkgutil.walk_packages([str(PACKAGE)], "airflow_jobs_provider.")
    if not module.name.startswith("airflow_jobs_provider.emulator")
)

# What the 0.1.0 release wrote to the trigger table (classpath, kwargs), byte for byte.
STORED_TRIGGER_ROWS = [
    (
        "airflow_jobs_provider.triggers.jobs.JobStatusTrigger",
        {
            "job_id": "t_1f6a",
            "jobs_conn_id": "jobs_default",
            "poll_interval": 10.0,
            "deadline": 1_800_000_000.0,
            "status_overrides": {"warning": "SUCCEEDED"},
            "cancel_on_kill": True,
            "deadline_source": "timeout",
        },
    ),
    (
        "airflow_jobs_provider.triggers.jobs.JobEventTrigger",
        {
            "jobs_conn_id": "jobs_keboola",
            "filters": {"componentId": "keboola.ex-http"},
            "match": {"configId": ["101", "102"]},
            "states": ["FAILED", "SUCCEEDED"],
            "poll_interval": 30.0,
            "lookback_seconds": None,
            "status_overrides": {},
        },
    ),
]


def test_the_provider_never_imports_the_emulator():
    code = (
        "import importlib, json, sys\n"
        f"for name in {PROVIDER_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    answer = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = json.loads(answer.stdout.strip().splitlines()[-1])
    assert len(PROVIDER_MODULES) > 30, "the walk found the provider's modules"
    assert "airflow_jobs_provider.triggers.jobs" in loaded
    assert [name for name in loaded if name.startswith("airflow_jobs_provider.emulator")] == []


def test_the_package_root_holds_at_most_four_modules():
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert modules == ["__init__.py", "exceptions.py", "get_provider_info.py", "version_compat.py"]


@pytest.mark.parametrize(("classpath", "kwargs"), STORED_TRIGGER_ROWS, ids=lambda value: str(value)[:40])
def test_a_trigger_row_of_the_first_release_still_deserializes(classpath, kwargs):
    module_name, class_name = classpath.rsplit(".", 1)  # what the triggerer's import_string does
    trigger_class = getattr(importlib.import_module(module_name), class_name)
    trigger = trigger_class(**json.loads(json.dumps(kwargs)))
    assert trigger.serialize() == (classpath, kwargs), "it loads, and writes the same row back"
