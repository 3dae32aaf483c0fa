"""Test DAGs whose OpenLineage events tests/integration/test_lineage.py reads: one per API.

``lineage_<api>``: TriggerJobOperator waiting for its job (deferrable where ``deferrable`` says),
then a JobSensor on the same job, so that both classes emit their events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

START = datetime(2026, 1, 1)
SIGNED_FILE = "https://reader:hunter2@files.example.com/exports/events.csv?X-Amz-Signature=abc123&token=t0k3n"
"""An import source whose user info and query hold secrets: no lineage event may show them."""
JOBS: dict[str, tuple[str, dict[str, Any], bool]] = {
    "tinybird_copy": ("jobs_default", {"kind": "copy", "pipe": "daily_rollup"}, True),
    "tinybird_import": ("jobs_default", {"kind": "import", "name": "events", "url": SIGNED_FILE}, False),
    "keboola": ("jobs_keboola", {"component": "keboola.ex-db-snowflake", "config": "554424643"}, True),
    "airbyte": ("jobs_airbyte", {"connectionId": "e735894a-e773-4938-969f-45f53957b75b", "jobType": "sync"}, True),
    "rest": (
        "jobs_acme",
        {
            "task": "nightly",
            "inputs": [{"namespace": "postgres://db.example.com:5432", "name": "shop.public.orders"}],
            "outputs": ["s3://reports-bucket/nightly/orders.parquet"],
        },
        False,
    ),
}


def lineage_dag(name: str, conn_id: str, spec: dict[str, Any], deferrable: bool) -> DAG:
    with DAG(dag_id=f"lineage_{name}", start_date=START, schedule=None, catchup=False) as dag:
        start = TriggerJobOperator(
            task_id="start",
            jobs_conn_id=conn_id,
            job=spec,
            wait_for_completion=True,
            deferrable=deferrable,
            poll_interval=0.1,
            timeout=60,
        )
        watch = JobSensor(
            task_id="watch",
            jobs_conn_id=conn_id,
            job_id="{{ ti.xcom_pull(task_ids='start', key='job_id') }}",
            poke_interval=0.1,
            timeout=60,
        )
        start >> watch
    return dag


for _name, (_conn_id, _spec, _deferrable) in JOBS.items():
    globals()[f"lineage_{_name}"] = lineage_dag(_name, _conn_id, _spec, _deferrable)
