"""Start a Tinybird copy job, then wait for it with a sensor that reads the job id from XCom."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

with DAG(
    dag_id="example_tinybird_copy",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["jobs", "tinybird"],
) as dag:
    start = TriggerJobOperator(
        task_id="start_copy",
        jobs_conn_id="jobs_default",
        job={"kind": "copy", "pipe": "daily_rollup", "_mode": "append"},
    )
    wait = JobSensor(
        task_id="wait_for_copy",
        jobs_conn_id="jobs_default",
        job_id="{{ ti.xcom_pull(task_ids='start_copy', key='job_id') }}",
        poke_interval=1,  # seconds; 30-60 suits real copy jobs
        timeout=600,
    )
    start >> wait


if __name__ == "__main__":
    dag.test()
