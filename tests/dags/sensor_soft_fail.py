"""Test DAGs: JobSensor with soft_fail, never_fail or neither, per wait mode and per limit.

The job and the connection come from dag_run.conf, so one DAG serves every path: a job that has
already ended, one that ends while the sensor waits, an API that answers 404, refuses the token
or stays down.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.sensors.jobs import JobSensor

MODES = ("poke", "reschedule", "deferrable")
FLAGS: dict[str, dict[str, Any]] = {"": {}, "_soft_fail": {"soft_fail": True}, "_never_fail": {"never_fail": True}}
LIMITS: dict[str, dict[str, Any]] = {
    "": {"timeout": 60},
    "_times_out": {"timeout": 1.5},
    # reschedule mode has none: Airflow applies execution_timeout to each short try
    "_execution_timeout": {"timeout": 60, "execution_timeout": timedelta(seconds=1.5), "cancel_on_timeout": True},
}


def soft_fail_dag(mode: str, flag: str, limit: str) -> DAG:
    with DAG(dag_id=f"soft_{mode}{flag}{limit}", start_date=datetime(2026, 1, 1), schedule=None) as dag:
        JobSensor(
            task_id="wait",
            job_id="{{ dag_run.conf['job_id'] }}",
            jobs_conn_id="{{ dag_run.conf.get('conn', 'jobs_default') }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            poke_interval=0.2,
            **FLAGS[flag],
            **LIMITS[limit],
        )
    return dag


for mode in MODES:
    for flag in FLAGS:
        for limit in LIMITS:
            if not (mode == "reschedule" and limit == "_execution_timeout"):
                globals()[f"soft_{mode}{flag}{limit}"] = soft_fail_dag(mode, flag, limit)
