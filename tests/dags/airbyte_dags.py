"""Test DAGs for Airbyte: trigger a sync, then watch it; one DAG per wait mode.

``airbyte_<mode>``: TriggerJobOperator (not waiting) >> JobSensor on the XCom job id.
``airbyte_operator_<mode>``: TriggerJobOperator waiting itself (AirbyteTriggerSyncOperator's
``asynchronous=False``). The connection UUID may come from ``dag_run.conf['connection_id']``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

MODES = ("poke", "reschedule", "deferrable")
START = datetime(2026, 1, 1)
CONNECTION_ID = "{{ dag_run.conf.get('connection_id', 'e735894a-e773-4938-969f-45f53957b75b') }}"
SYNC = {"connectionId": CONNECTION_ID, "jobType": "sync"}


def trigger_then_sensor(mode: str) -> DAG:
    with DAG(dag_id=f"airbyte_{mode}", start_date=START, schedule=None, catchup=False) as dag:
        start = TriggerJobOperator(task_id="trigger_sync", jobs_conn_id="jobs_airbyte", job=SYNC)
        wait = JobSensor(
            task_id="wait_for_sync",
            jobs_conn_id="jobs_airbyte",
            job_id="{{ ti.xcom_pull(task_ids='trigger_sync', key='job_id') }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            poke_interval=0.2,
            timeout=60,
        )
        start >> wait
    return dag


def operator_waits(mode: str) -> DAG:
    with DAG(dag_id=f"airbyte_operator_{mode}", start_date=START, schedule=None, catchup=False) as dag:
        TriggerJobOperator(
            task_id="sync",
            jobs_conn_id="jobs_airbyte",
            job=SYNC,
            wait_for_completion=True,
            deferrable=mode == "deferrable",
            poll_interval=0.2,
            timeout=60,
        )
    return dag


for mode in MODES:
    globals()[f"airbyte_{mode}"] = trigger_then_sensor(mode)
for mode in ("poke", "deferrable"):
    globals()[f"airbyte_operator_{mode}"] = operator_waits(mode)
