"""Test DAGs: one JobSensor per wait mode (x soft_fail), watching dag_run.conf['job_id']."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

MODES = ("poke", "reschedule", "deferrable")

for mode in MODES:
    for soft_fail in (False, True):
        dag_id = f"sensor_{mode}" + ("_soft_fail" if soft_fail else "")
        with DAG(dag_id=dag_id, start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
            JobSensor(
                task_id="wait",
                job_id="{{ dag_run.conf['job_id'] }}",
                jobs_conn_id="{{ dag_run.conf.get('conn_id', 'jobs_default') }}",
                mode="reschedule" if mode == "reschedule" else "poke",
                deferrable=mode == "deferrable",
                poke_interval=0.2,
                timeout=60,
                soft_fail=soft_fail,
            )
        globals()[dag_id] = dag

    with DAG(dag_id=f"sensor_{mode}_weird_is_done", start_date=datetime(2026, 1, 1), schedule=None) as dag:
        JobSensor(
            task_id="wait",
            job_id="{{ dag_run.conf['job_id'] }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            poke_interval=0.2,
            timeout=60,
            status_overrides={"weird": "SUCCEEDED"},
        )
    globals()[dag.dag_id] = dag

    with DAG(dag_id=f"sensor_{mode}_times_out", start_date=datetime(2026, 1, 1), schedule=None) as dag:
        JobSensor(
            task_id="wait",
            job_id="{{ dag_run.conf['job_id'] }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            poke_interval=0.2,
            timeout=1.5,
        )
    globals()[dag.dag_id] = dag


for deferrable in (False, True):
    dag_id = "operator_waits_" + ("deferrable" if deferrable else "sync")
    with DAG(dag_id=dag_id, start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
        TriggerJobOperator(
            task_id="run_job",
            job={"kind": "copy", "pipe": "{{ dag_run.conf.get('pipe', 'p') }}"},
            wait_for_completion=True,
            deferrable=deferrable,
            poll_interval=0.2,
        )
    globals()[dag_id] = dag


with DAG(dag_id="operator_retry_reconnects", start_date=datetime(2026, 1, 1), schedule=None) as dag:
    # The first try times out while the job runs; the retry must reconnect, not start a second job.
    TriggerJobOperator(
        task_id="run_job",
        job={"kind": "copy", "pipe": "slow_pipe"},
        wait_for_completion=True,
        poll_interval=0.2,
        execution_timeout=timedelta(seconds=1),
        retries=3,
        retry_delay=timedelta(seconds=0),
    )
