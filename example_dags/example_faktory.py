"""Faktory Enterprise: build a report, then publish it; each job is pushed and then watched.

Connection ``jobs_faktory``: host ``tcp://faktory.internal:7419`` (``tcp+tls://`` for TLS), the
Faktory password as its password, extra ``{"api": "faktory"}``. Watching needs Faktory
Enterprise's job tracking; the operator sets ``custom.track = 1`` on every job it pushes.

The long report is watched from the triggerer (deferrable: one Faktory connection for the whole
wait, no worker slot held); the short publish job in poke mode. Either sensor succeeds when its
job is ACKed, fails when the job is dead (retries exhausted), and fails when Faktory still
answers ``unknown`` after the connection's ``unknown_grace_seconds``. A failed attempt that
Faktory will retry keeps it waiting, with a log line that says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

REPORT_ID = "{{ ti.xcom_pull(task_ids='push_report', key='job_id') }}"
PUBLISH_ID = "{{ ti.xcom_pull(task_ids='push_publish', key='job_id') }}"

with DAG(
    dag_id="example_faktory",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["jobs", "faktory"],
) as dag:
    push_report = TriggerJobOperator(
        task_id="push_report",
        jobs_conn_id="jobs_faktory",
        job={"jobtype": "BuildReport", "args": ["{{ ds }}", "eu"], "queue": "reports", "retry": 2},
    )
    watch_report = JobSensor(
        task_id="watch_report",
        jobs_conn_id="jobs_faktory",
        job_id=REPORT_ID,
        deferrable=True,
        poke_interval=1,  # the trigger polls at this interval
        timeout=timedelta(hours=6),
    )
    push_publish = TriggerJobOperator(
        task_id="push_publish",
        jobs_conn_id="jobs_faktory",
        job={"jobtype": "PublishReport", "args": ["{{ ds }}", "eu"], "retry": 0},
    )
    watch_publish = JobSensor(  # poke mode: holds a worker slot, one Faktory connection per try
        task_id="watch_publish",
        jobs_conn_id="jobs_faktory",
        job_id=PUBLISH_ID,
        poke_interval=1,
        timeout=timedelta(minutes=30),
    )
    push_report >> watch_report >> push_publish >> watch_publish


if __name__ == "__main__":
    dag.test()
