"""Test DAGs for Keboola: start a job, then watch it in poke or deferrable mode (job id via XCom)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

MODES = ("poke", "deferrable")
START = datetime(2026, 1, 1)
JOB = {
    "component": "keboola.ex-db-snowflake",
    "config": "{{ dag_run.conf.get('config', '554424643') }}",
    "parentRunId": "{{ dag_run.conf.get('parent_run_id', '') }}",
}

# dag_id suffix -> what differs from the plain sensor
VARIANTS: dict[str, dict[str, Any]] = {
    "": {},
    "_warning_ok": {"status_overrides": {"warning": "SUCCEEDED"}},
}


def keboola_dag(mode: str, suffix: str, **changes: Any) -> DAG:
    with DAG(dag_id=f"keboola_{mode}{suffix}", start_date=START, schedule=None, catchup=False) as dag:
        start = TriggerJobOperator(task_id="start", jobs_conn_id="jobs_keboola", job=JOB)
        wait = JobSensor(
            task_id="wait",
            jobs_conn_id="jobs_keboola",
            job_id="{{ ti.xcom_pull(task_ids='start', key='job_id') }}",
            deferrable=mode == "deferrable",
            **{"poke_interval": 0.2, "timeout": 60, **changes},
        )
        start >> wait
    return dag


for mode in MODES:
    for suffix, changes in VARIANTS.items():
        globals()[f"keboola_{mode}{suffix}"] = keboola_dag(mode, suffix, **changes)
