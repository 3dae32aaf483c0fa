"""The watches benchmarks/worker_slots.py times, one DAG per way of waiting; the job id comes in dag_run.conf.

Each DAG is the watch alone, so the worker slots counted are the watch's own.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.sensors.jobs import JobSensor

START = datetime(2026, 1, 1)
JOB_ID = "{{ dag_run.conf['job_id'] }}"
CONN_ID = "jobs_airbyte"
AIRBYTE_CONN_ID = "airbyte_bench"
POKE = 1.0
TIMEOUT = 600

WAYS = {
    "ws_start_from_trigger": {"deferrable": True, "start_from_trigger": True},
    "ws_deferrable": {"deferrable": True, "start_from_trigger": False},
    "ws_poke": {"deferrable": False, "mode": "poke"},
}

for dag_id, how in WAYS.items():
    with DAG(dag_id=dag_id, start_date=START, schedule=None, catchup=False, tags=["bench"]) as dag:
        JobSensor(task_id="watch", job_id=JOB_ID, jobs_conn_id=CONN_ID, poke_interval=POKE, timeout=TIMEOUT, **how)
    globals()[dag_id] = dag

try:
    from airflow.providers.airbyte.sensors.airbyte import AirbyteJobSensor
except ImportError:  # the peer is a bench-only package (benchmarks/requirements.txt)
    pass
else:
    with DAG(dag_id="ws_airbyte_peer", start_date=START, schedule=None, catchup=False, tags=["bench"]) as peer:
        AirbyteJobSensor(
            task_id="watch",
            airbyte_job_id=JOB_ID,
            airbyte_conn_id=AIRBYTE_CONN_ID,
            deferrable=True,
            poke_interval=POKE,
            timeout=TIMEOUT,
        )
