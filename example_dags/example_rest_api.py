"""Any jobs API with no code: the connection's extras describe it (here the emulator's Acme Batch API).

Connection ``jobs_acme`` (api ``rest``)::

    {"api": "rest",
     "start": "POST /acme/v2/runs", "get": "GET /acme/v2/runs/{job_id}",
     "cancel": "POST /acme/v2/runs/{job_id}/abort", "list": "GET /acme/v2/runs",
     "job_root": "run", "list_root": "runs", "id_field": "id", "state_field": "state",
     "message_field": "error", "progress_field": "progress", "url_field": "links.ui",
     "states": {"QUEUED": "PENDING", "RUNNING": "RUNNING", "ABORTING": "RUNNING",
                "SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED", "ABORTED": "CANCELLED"},
     "auth_header": "X-Api-Key", "auth_scheme": ""}
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator

with DAG(
    dag_id="example_rest_api",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["jobs", "rest", "deferrable"],
) as dag:
    TriggerJobOperator(
        task_id="run_report",
        jobs_conn_id="jobs_acme",
        job={"task": "monthly_report", "params": {"month": "{{ ds[:7] }}"}},
        wait_for_completion=True,
        deferrable=True,
        poll_interval=1,
        timeout=3600,
    )


if __name__ == "__main__":
    dag.test()
