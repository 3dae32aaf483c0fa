"""The e2e suite's lineage DAG (tests/e2e/test_lineage.py): per API, a deferrable TriggerJobOperator
that waits for its job in the triggerer, then a deferrable JobSensor on the same job.

``enable_lineage`` opts this DAG in: the deployment sets ``[openlineage] selective_enable``, so it is
the only DAG whose tasks emit OpenLineage events (through the provider's file transport).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.openlineage.utils.selective_enable import enable_lineage

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

AIRBYTE_CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"
JOBS: dict[str, tuple[str, dict[str, Any]]] = {
    "tinybird": ("jobs_default", {"kind": "copy", "pipe": "e2e_rollup"}),
    "keboola": ("jobs_keboola", {"component": "keboola.ex-db-snowflake", "config": "e2e-lineage"}),
    "airbyte": ("jobs_airbyte", {"connectionId": AIRBYTE_CONNECTION, "jobType": "sync"}),
    "rest": (
        "jobs_acme",
        {
            "task": "e2e-lineage",
            "inputs": [{"namespace": "postgres://db.example.com:5432", "name": "shop.public.orders"}],
            "outputs": ["s3://reports-bucket/nightly/orders.parquet"],
        },
    ),
}

with DAG(dag_id="e2e_lineage", start_date=datetime(2026, 1, 1), schedule=None, catchup=False, tags=["e2e"]) as dag:
    for api, (conn_id, spec) in JOBS.items():
        start = TriggerJobOperator(
            task_id=f"start_{api}",
            jobs_conn_id=conn_id,
            job=spec,
            wait_for_completion=True,
            deferrable=True,
            poll_interval=1,
            timeout=120,
        )
        watch = JobSensor(
            task_id=f"watch_{api}",
            jobs_conn_id=conn_id,
            job_id=f"{{{{ ti.xcom_pull(task_ids='start_{api}', key='job_id') }}}}",
            deferrable=True,
            poke_interval=1,
            timeout=120,
        )
        start >> watch
enable_lineage(dag)
