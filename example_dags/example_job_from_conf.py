"""Watch a job started elsewhere: trigger this DAG with conf {"job_id": "..."}."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.sensors.jobs import JobSensor

with DAG(
    dag_id="example_job_from_conf",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    params={"job_id": ""},
    tags=["jobs", "tinybird"],
) as dag:
    JobSensor(
        task_id="wait_for_job",
        jobs_conn_id="jobs_default",
        job_id="{{ dag_run.conf['job_id'] }}",
        mode="reschedule",  # frees the worker slot between pokes
        poke_interval=1,
        timeout=600,
    )


if __name__ == "__main__":
    dag.test(run_conf={"job_id": "replace-with-a-job-id"})
