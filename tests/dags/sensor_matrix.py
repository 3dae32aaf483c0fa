"""Test DAGs: one JobSensor per wait mode and situation, watching dag_run.conf['job_id']."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

MODES = ("poke", "reschedule", "deferrable")
START = datetime(2026, 1, 1)

# dag_id suffix -> what differs from the plain sensor
VARIANTS: dict[str, dict[str, Any]] = {
    "": {},
    "_soft_fail": {"soft_fail": True},
    "_weird_is_done": {"status_overrides": {"weird": "SUCCEEDED"}},
    "_times_out": {"timeout": 1.5},
}


def sensor_dag(mode: str, suffix: str, **changes: Any) -> DAG:
    with DAG(dag_id=f"sensor_{mode}{suffix}", start_date=START, schedule=None, catchup=False) as dag:
        JobSensor(
            task_id="wait",
            job_id="{{ dag_run.conf['job_id'] }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            **{"poke_interval": 0.2, "timeout": 60, **changes},
        )
    return dag


def operator_dag(dag_id: str, **changes: Any) -> DAG:
    with DAG(dag_id=dag_id, start_date=START, schedule=None, catchup=False) as dag:
        TriggerJobOperator(
            task_id="run_job",
            job={"kind": "copy", "pipe": "{{ dag_run.conf.get('pipe', 'p') }}"},
            wait_for_completion=True,
            poll_interval=0.2,
            **changes,
        )
    return dag


for mode in MODES:
    for suffix, changes in VARIANTS.items():
        globals()[f"sensor_{mode}{suffix}"] = sensor_dag(mode, suffix, **changes)

operator_waits_sync = operator_dag("operator_waits_sync")
operator_waits_deferrable = operator_dag("operator_waits_deferrable", deferrable=True)
# The first tries time out while the job runs; the retry must reconnect, not start a second job.
operator_retry_reconnects = operator_dag(
    "operator_retry_reconnects",
    execution_timeout=timedelta(seconds=1),
    retries=3,
    retry_delay=timedelta(seconds=0),
)
# The first try gives up waiting and leaves its job running; what the retry does depends on Airflow.
operator_retry_after_giving_up = operator_dag(
    "operator_retry_after_giving_up",
    timeout=0.5,
    cancel_on_kill=False,
    retries=1,
    retry_delay=timedelta(seconds=0),
)
