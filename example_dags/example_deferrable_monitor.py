"""A long-running populate watched from the triggerer: no worker slot is held while it runs.

The sensor may wait for days; its own deadline (``timeout``) travels with the trigger, so the
watch ends even though the triggerer does not apply ``execution_timeout``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

with DAG(
    dag_id="example_deferrable_monitor",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["jobs", "tinybird", "deferrable"],
) as dag:
    populate = TriggerJobOperator(
        task_id="start_populate",
        jobs_conn_id="jobs_default",
        job={"kind": "populate", "pipe": "sales_by_day", "node": "mv_node", "truncate": True},
    )
    watch = JobSensor(
        task_id="watch_populate",
        jobs_conn_id="jobs_default",
        job_id="{{ ti.xcom_pull(task_ids='start_populate', key='job_id') }}",
        deferrable=True,
        poke_interval=1,  # the trigger polls at this interval; minutes suit multi-day jobs
        timeout=timedelta(days=3),
    )
    populate >> watch


if __name__ == "__main__":
    dag.test()
