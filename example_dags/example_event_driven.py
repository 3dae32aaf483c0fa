"""Event-driven DAGs: run a DAG each time a job finishes in the external system (Airflow 3).

An ``Asset`` watched by a ``JobEventTrigger`` gets an asset event each time a matching job
finishes. A DAG scheduled on that asset then runs, and it finds the job in the event's
``extra["payload"]["job"]`` (``Job.to_dict()``: job_id, status, raw_status, url, message, payload).

- ``example_event_producer`` starts three Tinybird copy jobs of pipe ``sales_rollup`` and does
  not wait for them. Any other system could start them just as well.
- ``example_event_consumer`` runs once for each of those jobs that finishes with success, and
  prints the job. Jobs of other pipes, failed jobs, and jobs that finished before the watcher
  started do not run it.
- ``example_keboola_failures`` runs when a Keboola job of one component and configuration ends
  in error. ``example_airbyte_syncs`` runs when any sync of one Airbyte connection succeeds.

Watchers run only while a DAG scheduled on their asset is unpaused. The triggerer polls each
distinct list once per ``poll_interval``, however many watchers read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.triggers.jobs import JobEventTrigger
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_0_PLUS

PIPE = "sales_rollup"
KEBOOLA_COMPONENT, KEBOOLA_CONFIG = "keboola.ex-db-snowflake", "554424643"
AIRBYTE_CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"


def finished_jobs(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The jobs carried by a run's triggering asset events, oldest event first.

    Several jobs that finish within the same scheduler loop can reach one run together, so a
    consumer handles every event it is given, not just the last one.
    """
    return [event.extra["payload"]["job"] for event in events if "job" in (event.extra or {}).get("payload", {})]


def print_jobs(jobs: list[dict[str, Any]]) -> None:
    for job in jobs:
        where = job["payload"].get("pipe_name") or job["payload"].get("connectionId") or job["payload"].get("config")
        print(f"job {job['job_id']} ({where}) finished {job['status']} (raw: {job['raw_status']}): {job['url']}")


if AIRFLOW_V_3_0_PLUS:  # asset watchers are Airflow 3; on 2.11 this file defines no DAG
    from airflow.sdk import DAG, Asset, AssetWatcher, task

    sales_rollup_copied = Asset(
        "tinybird_sales_rollup_copied",
        watchers=[
            AssetWatcher(
                name="sales_rollup_copy_succeeded",
                trigger=JobEventTrigger(
                    jobs_conn_id="jobs_default",
                    filters={"kind": "copy", "pipe_name": PIPE},  # Tinybird's own /v0/jobs filters
                    states=["SUCCEEDED"],
                    poll_interval=2,  # seconds; 30-60 suits real copy jobs
                ),
            )
        ],
    )

    with DAG(
        dag_id="example_event_producer",
        start_date=datetime(2026, 1, 1),
        schedule=None,
        catchup=False,
        tags=["jobs", "tinybird", "events"],
    ) as producer:
        for number in (1, 2, 3):
            TriggerJobOperator(
                task_id=f"start_copy_{number}",
                jobs_conn_id="jobs_default",
                job={"kind": "copy", "pipe": PIPE, "_mode": "append"},
            )

    with DAG(
        dag_id="example_event_consumer",
        schedule=[sales_rollup_copied],
        catchup=False,
        tags=["jobs", "tinybird", "events"],
    ) as consumer:

        @task
        def report_copy(*, triggering_asset_events: Any = None) -> list[dict[str, Any]]:
            jobs = finished_jobs(triggering_asset_events[sales_rollup_copied])
            print_jobs(jobs)
            return jobs

        report_copy()

    keboola_failed = Asset(
        "keboola_snowflake_extractor_failed",
        watchers=[
            AssetWatcher(
                name="snowflake_extractor_failed",
                trigger=JobEventTrigger(
                    jobs_conn_id="jobs_keboola",
                    filters={"componentId": KEBOOLA_COMPONENT, "configId": KEBOOLA_CONFIG},
                    states=["FAILED"],  # raw 'error', and 'warning' too (map it with status_overrides)
                    poll_interval=60,
                ),
            )
        ],
    )

    with DAG(
        dag_id="example_keboola_failures",
        schedule=[keboola_failed],
        catchup=False,
        tags=["jobs", "keboola", "events"],
    ) as keboola_failures:

        @task
        def report_failure(*, triggering_asset_events: Any = None) -> list[dict[str, Any]]:
            jobs = finished_jobs(triggering_asset_events[keboola_failed])
            print_jobs(jobs)  # the job's message carries Keboola's error and exceptionId
            return jobs

        report_failure()

    airbyte_synced = Asset(
        "airbyte_orders_synced",
        watchers=[
            AssetWatcher(
                name="orders_sync_succeeded",
                trigger=JobEventTrigger(
                    jobs_conn_id="jobs_airbyte",
                    filters={"connectionId": AIRBYTE_CONNECTION, "jobType": "sync"},
                    states=["SUCCEEDED"],
                    poll_interval=60,
                ),
            )
        ],
    )

    with DAG(
        dag_id="example_airbyte_syncs",
        schedule=[airbyte_synced],
        catchup=False,
        tags=["jobs", "airbyte", "events"],
    ) as airbyte_syncs:

        @task
        def report_sync(*, triggering_asset_events: Any = None) -> list[dict[str, Any]]:
            jobs = finished_jobs(triggering_asset_events[airbyte_synced])
            print_jobs(jobs)  # payload: rowsSynced, bytesSynced, duration
            return jobs

        report_sync()
