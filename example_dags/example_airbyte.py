"""Trigger an Airbyte sync without waiting, then watch it with a sensor that reads the job id from XCom.

This is the Airbyte provider's ``AirbyteTriggerSyncOperator(asynchronous=True)`` followed by
``AirbyteJobSensor``. The ``jobs_airbyte`` connection has host ``https://api.airbyte.com/v1``, an
application's client id as its login, the client secret as its password, and extra
``{"api": "airbyte"}``. The access tokens are fetched and renewed as needed.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

# The connection's id as shown in its URL in the Airbyte UI (…/connections/<id>).
CONNECTION_ID = "e735894a-e773-4938-969f-45f53957b75b"

with DAG(
    dag_id="example_airbyte",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["jobs", "airbyte"],
) as dag:
    trigger_sync = TriggerJobOperator(
        task_id="trigger_sync",
        jobs_conn_id="jobs_airbyte",
        job={"connectionId": CONNECTION_ID, "jobType": "sync"},
        wait_for_completion=False,  # asynchronous: push the job id and hand over to the sensor
    )
    wait_for_sync = JobSensor(
        task_id="wait_for_sync",
        jobs_conn_id="jobs_airbyte",
        job_id="{{ ti.xcom_pull(task_ids='trigger_sync', key='job_id') }}",
        deferrable=True,  # wait in the triggerer; a sync can take hours
        poke_interval=1,  # seconds; 60 suits real syncs
        timeout=6 * 3600,
    )
    trigger_sync >> wait_for_sync


if __name__ == "__main__":
    dag.test()
