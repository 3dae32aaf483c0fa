"""Test DAGs: JobSensors that time out on a long job, with ``cancel_on_timeout`` on, per wait mode."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.sensors.jobs import JobSensor


def timeout_dag(mode: str, **changes: object) -> DAG:
    suffix = "_soft_fail" if changes.get("soft_fail") else ""
    with DAG(
        dag_id=f"sensor_{mode}_times_out_cancels{suffix}", start_date=datetime(2026, 1, 1), schedule=None
    ) as dag:
        JobSensor(
            task_id="wait",
            job_id="{{ dag_run.conf['job_id'] }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            poke_interval=0.2,
            timeout=1.5,
            cancel_on_timeout=True,
            **changes,  # type: ignore[arg-type]
        )
    return dag


for mode in ("poke", "reschedule", "deferrable"):
    globals()[f"cancels_{mode}"] = timeout_dag(mode)
    globals()[f"cancels_{mode}_soft_fail"] = timeout_dag(mode, soft_fail=True)
