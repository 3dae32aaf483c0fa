"""Join a job that is already running instead of starting a second one (``if_running``).

Keboola holds a second job of a configuration ``waiting`` until the first one ends (the
configuration lock) and Airbyte refuses a second sync of a connection (409), so a DAG that runs
while someone else's job of the same configuration or connection is under way would start a
duplicate, wait twice, or fail. ``if_running="join"`` watches the running job instead: it becomes
the task's ``job_id`` XCom, and the task log says it was joined.

Here the first task starts the extractor without waiting, as another team's DAG or a manual run
would; the second finds it running and joins it. ``if_running`` also takes ``"fail"`` (the task
fails while a job of the target runs) and ``"cancel"`` (cancel it, then start a new one); the
default ``"start"`` starts a job whatever runs.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator

EXTRACTOR = {"component": "keboola.ex-db-snowflake", "config": "554424643", "mode": "run"}

with DAG(
    dag_id="example_if_running",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["jobs", "keboola"],
) as dag:
    someone_elses_run = TriggerJobOperator(task_id="someone_elses_run", jobs_conn_id="jobs_keboola", job=EXTRACTOR)
    extract = TriggerJobOperator(
        task_id="extract",
        jobs_conn_id="jobs_keboola",
        job=EXTRACTOR,
        if_running="join",  # "start" (default), "join", "fail" or "cancel"
        wait_for_completion=True,
        poll_interval=1,  # seconds; 30-60 suits real extractor jobs
        timeout=3600,
    )
    someone_elses_run >> extract


if __name__ == "__main__":
    dag.test()
