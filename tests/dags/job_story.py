"""Test DAGs for the job's own story in the task log: start a job, then watch it in each mode.

``story_<api>_<mode>``: TriggerJobOperator (not waiting) >> JobSensor in poke, reschedule or
deferrable mode; ``story_<api>_operator_<sync|deferrable>``: the operator waits itself. Each
"api" is a connection and a job spec (Tinybird has one per job kind).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

START = datetime(2026, 1, 1)
JOBS: dict[str, tuple[str, dict[str, Any]]] = {
    "tinybird": ("jobs_default", {"kind": "copy", "pipe": "story_pipe"}),
    "tinybird_import": ("jobs_default", {"kind": "import", "name": "events", "url": "https://example.com/e.csv"}),
    "tinybird_populate": ("jobs_default", {"kind": "populate", "pipe": "story_pipe", "node": "mv"}),
    "keboola": ("jobs_keboola", {"component": "keboola.ex-db-snowflake", "config": "554424643"}),
    "airbyte": ("jobs_airbyte", {"connectionId": "9b5a3a4e-0b7f-4c4e-9a51-2b0f4f6c1d11", "jobType": "sync"}),
    "acme": ("jobs_acme", {"task": "nightly"}),
    "faktory": ("jobs_faktory", {"jobtype": "StoryJob", "args": [1], "retry": 0}),
}
MODES = ("poke", "reschedule", "deferrable")


def story_dag(api: str, mode: str) -> DAG:
    conn_id, job = JOBS[api]
    with DAG(dag_id=f"story_{api}_{mode}", start_date=START, schedule=None, catchup=False) as dag:
        start = TriggerJobOperator(task_id="start", jobs_conn_id=conn_id, job=job)
        wait = JobSensor(
            task_id="wait",
            jobs_conn_id=conn_id,
            job_id="{{ ti.xcom_pull(task_ids='start', key='job_id') }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            poke_interval=0.2,
            timeout=60,
        )
        start >> wait
    return dag


def operator_dag(api: str, deferrable: bool) -> DAG:
    name = "deferrable" if deferrable else "sync"
    conn_id, job = JOBS[api]
    with DAG(dag_id=f"story_{api}_operator_{name}", start_date=START, schedule=None, catchup=False) as dag:
        TriggerJobOperator(
            task_id="run",
            jobs_conn_id=conn_id,
            job=job,
            wait_for_completion=True,
            deferrable=deferrable,
            poll_interval=0.2,
            timeout=60,
        )
    return dag


for api in JOBS:
    for mode in MODES:
        globals()[f"story_{api}_{mode}"] = story_dag(api, mode)
    for deferrable in (False, True):
        dag = operator_dag(api, deferrable)
        globals()[dag.dag_id] = dag
