"""Test DAGs for Faktory: one JobSensor per wait mode on dag_run.conf['job_id'], and an operator that waits."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

START = datetime(2026, 1, 1)


def faktory_sensor_dag(mode: str) -> DAG:
    with DAG(dag_id=f"faktory_sensor_{mode}", start_date=START, schedule=None, catchup=False) as dag:
        JobSensor(
            task_id="wait",
            jobs_conn_id="jobs_faktory",
            job_id="{{ dag_run.conf['job_id'] }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            poke_interval=0.2,
            timeout=60,
        )
    return dag


for mode in ("poke", "reschedule", "deferrable"):
    globals()[f"faktory_sensor_{mode}"] = faktory_sensor_dag(mode)

# A failed attempt fails this task at once, although Faktory would retry the job.
with DAG(dag_id="faktory_operator_strict", start_date=START, schedule=None, catchup=False) as faktory_operator_strict:
    TriggerJobOperator(
        task_id="push_and_wait",
        jobs_conn_id="jobs_faktory",
        job={"jobtype": "Flaky", "args": [], "retry": 5},
        wait_for_completion=True,
        poll_interval=0.1,
        status_overrides={"failed": "FAILED"},
    )
