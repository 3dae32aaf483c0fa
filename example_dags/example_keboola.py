"""Run a Keboola component job, then wait for it with a sensor that reads the job id from XCom.

Connection ``jobs_keboola``: host = the stack's Queue API (``https://queue.keboola.com``,
``https://queue.eu-central-1.keboola.com``, ...), password = a Storage API token, extra
``{"api": "keboola"}``. The job spec uses Keboola's own field names (``component``, ``config``
or ``configData``, ``mode``, ``configRowIds``, ``branchId``, ...). ``parentRunId`` is ours: it
makes the job a child of that run (sent as ``X-KBC-RunId``); empty means no parent.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

with DAG(
    dag_id="example_keboola",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["jobs", "keboola"],
) as dag:
    start = TriggerJobOperator(
        task_id="run_extractor",
        jobs_conn_id="jobs_keboola",
        job={
            "component": "keboola.ex-db-snowflake",
            "config": "554424643",
            "mode": "run",
            "parentRunId": "{{ dag_run.conf.get('parent_run_id', '') }}",
        },
    )
    wait = JobSensor(
        task_id="wait_for_extractor",
        jobs_conn_id="jobs_keboola",
        job_id="{{ ti.xcom_pull(task_ids='run_extractor', key='job_id') }}",
        poke_interval=1,  # seconds; 30-60 suits real extractor jobs
        timeout=3600,
        # 'warning' (finished, a child job failed) fails the task unless mapped:
        # status_overrides={"warning": "SUCCEEDED"},
    )
    start >> wait


if __name__ == "__main__":
    dag.test()
