"""Test DAGs: deferred watches whose task's execution_timeout passes before the job ends."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

START = datetime(2026, 1, 1)
LIMIT = timedelta(seconds=1.5)


def operator_dag(dag_id: str, **changes: Any) -> DAG:
    with DAG(dag_id=dag_id, start_date=START, schedule=None, catchup=False) as dag:
        TriggerJobOperator(
            task_id="run_job",
            job={"kind": "copy", "pipe": "p"},
            wait_for_completion=True,
            deferrable=True,
            poll_interval=0.2,
            execution_timeout=LIMIT,
            **changes,
        )
    return dag


def sensor_dag(dag_id: str, **changes: Any) -> DAG:
    with DAG(dag_id=dag_id, start_date=START, schedule=None, catchup=False) as dag:
        JobSensor(
            task_id="wait",
            job_id="{{ dag_run.conf['job_id'] }}",
            deferrable=True,
            poke_interval=0.2,
            timeout=60,
            execution_timeout=LIMIT,
            **changes,
        )
    return dag


deferred_operator_execution_timeout = operator_dag("deferred_operator_execution_timeout")
deferred_operator_execution_timeout_keeps_job = operator_dag(
    "deferred_operator_execution_timeout_keeps_job", cancel_on_kill=False
)
# the operator's own timeout comes first: the old behaviour (a JobsError, the job cancelled)
deferred_operator_own_timeout_first = operator_dag("deferred_operator_own_timeout_first", timeout=0.5)
deferred_sensor_execution_timeout = sensor_dag("deferred_sensor_execution_timeout", cancel_on_timeout=True)
deferred_sensor_execution_timeout_keeps_job = sensor_dag("deferred_sensor_execution_timeout_keeps_job")
