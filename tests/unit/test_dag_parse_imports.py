"""A DAG file that imports our operator and sensor pays for no HTTP stack: the DAG processor parses
it again and again, while aiohttp is needed only by the triggerer (and the hook only at run time).

Checked in fresh interpreters, where nothing else has imported them yet: what the provider's
modules add on top of the Airflow base classes they build on.
"""

from __future__ import annotations

import json
import subprocess
import sys

from airflow_jobs_provider.version_compat import AIRFLOW_V_3_0_PLUS

LIST_MODULES = "import json, sys; print(json.dumps(sorted(sys.modules)))"
AIRFLOW_BASES = "from airflow.providers.common.compat.sdk import BaseOperator, BaseSensorOperator"
DAG_FILE = (
    "from airflow_jobs_provider.operators.jobs import TriggerJobOperator\n"
    "from airflow_jobs_provider.sensors.jobs import JobSensor"
)
PARSE_TIME = (
    "airflow_jobs_provider.apis.job",
    "airflow_jobs_provider.apis.settings",
    "airflow_jobs_provider.apis.states",
)
"""The pieces of apis/ a task checks its options with; every adapter, hooks/ and triggers/ are run-time only."""
RUN_TIME_ONLY = ("airflow_jobs_provider.hooks", "airflow_jobs_provider.triggers", "airflow_jobs_provider.apis.")


def modules_after(code: str) -> set[str]:
    answer = subprocess.run(
        [sys.executable, "-c", f"{code}\n{LIST_MODULES}"], check=True, capture_output=True, text=True
    )
    return set(json.loads(answer.stdout.strip().splitlines()[-1]))


def test_a_dag_file_using_the_operator_and_sensor_does_not_import_aiohttp():
    loaded = modules_after(DAG_FILE)
    added = loaded - modules_after(AIRFLOW_BASES)

    if AIRFLOW_V_3_0_PLUS:  # the Task SDK imports no HTTP client; on 2.11 only what we add is ours to answer for
        assert "aiohttp" not in loaded
    assert not {name for name in added if name.split(".")[0] in ("aiohttp", "requests", "yarl")}, added
    assert not {name for name in added if name.startswith(RUN_TIME_ONLY) and name not in PARSE_TIME}, sorted(added)
