"""Run when another team's jobs of the day have finished: wait for "the next job of X", not a job id.

Another team runs Tinybird's copy of pipe ``sales_rollup`` and Keboola's Snowflake extractor on
their own schedules; this DAG must not start before today's runs of both have finished. An asset
watcher would serve this on Airflow 3, but not on 2.11; ``JobFinishedSensor`` works on both, in
poke, reschedule or deferrable mode.

Each sensor lists the API's jobs with the API's own ``filters`` (and ``match`` for payload fields
the API cannot filter on) and succeeds when a matching job finished at or after ``finished_after``
(here the end of the DAG run's data interval); that job is its XCom. A FAILED or CANCELLED job
fails the task (``soft_fail=True`` skips instead), unless ``states=["SUCCEEDED"]`` tells it to pass
over failed runs and wait for a good one.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.sensors.jobs import JobFinishedSensor

with DAG(
    dag_id="example_cross_team_dependency",
    start_date=datetime(2026, 1, 1),
    schedule="@daily",
    catchup=False,
    tags=["jobs", "tinybird", "keboola"],
) as dag:
    rollup = JobFinishedSensor(
        task_id="wait_for_sales_rollup",
        jobs_conn_id="jobs_default",  # Tinybird
        filters={"kind": "copy"},
        match={"pipe_name": "sales_rollup"},
        finished_after="{{ data_interval_end }}",
        deferrable=True,  # waits in the triggerer, not in a worker slot
        poke_interval=1,  # seconds; 60-300 suits a daily dependency
        timeout=6 * 3600,
    )
    extract = JobFinishedSensor(
        task_id="wait_for_snowflake_extract",
        jobs_conn_id="jobs_keboola",
        filters={"componentId": "keboola.ex-db-snowflake", "configId": "554424643"},
        finished_after="{{ data_interval_end }}",
        states=["SUCCEEDED"],  # a failed run is passed over: the other team retries it
        mode="reschedule",
        poke_interval=1,
        timeout=6 * 3600,
    )


if __name__ == "__main__":
    dag.test()
