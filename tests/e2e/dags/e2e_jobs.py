"""DAGs for the end-to-end suite: each starts one Tinybird populate job and watches it.

Populate jobs because Tinybird (and so the emulator) can cancel them while they work, which
the kill and timeout cases need. The tests decide how each job ends through the emulator.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor

START = datetime(2026, 1, 1)
POPULATE = {"kind": "populate", "pipe": "e2e_pipe", "node": "e2e_node"}
JOB_ID = "{{ ti.xcom_pull(task_ids='start', key='job_id') }}"


def watch_dag(dag_id: str, **sensor: Any) -> DAG:
    """start (TriggerJobOperator) >> watch (deferrable JobSensor); ``sensor`` changes the sensor.

    The watch starts on a worker and defers (today's path) unless ``start_from_trigger=True``
    (test_start_from_trigger.py): the scheduler then starts it in the triggerer.
    """
    with DAG(dag_id=dag_id, start_date=START, schedule=None, catchup=False, tags=["e2e"]) as dag:
        start = TriggerJobOperator(task_id="start", job=POPULATE)
        watch = JobSensor(
            task_id="watch",
            job_id=JOB_ID,
            deferrable=True,
            **{"poke_interval": 1, "timeout": 600, "cancel_on_kill": True, "start_from_trigger": False, **sensor},
        )
        start >> watch
    return dag


def leave_pid_file(context: Any) -> None:
    """Tell the test which process runs this try, so it can SIGKILL it like a dying worker."""
    ti = context["ti"]
    folder = Path(os.environ["JOBS_E2E_RUNTIME_DIR"])
    (folder / f"{ti.dag_id}.{ti.run_id}.{ti.try_number}.pid").write_text(str(os.getpid()))


e2e_watch = watch_dag("e2e_watch")
e2e_watch_soft_fail = watch_dag("e2e_watch_soft_fail", soft_fail=True)
e2e_watch_no_cancel = watch_dag("e2e_watch_no_cancel", cancel_on_kill=False)
e2e_watch_times_out = watch_dag("e2e_watch_times_out", timeout=15)
e2e_watch_times_out_cancels = watch_dag("e2e_watch_times_out_cancels", timeout=15, cancel_on_timeout=True)
e2e_triggerer_only = watch_dag("e2e_triggerer_only", start_from_trigger=True)
e2e_triggerer_only_soft_fail = watch_dag("e2e_triggerer_only_soft_fail", start_from_trigger=True, soft_fail=True)
e2e_triggerer_only_times_out = watch_dag("e2e_triggerer_only_times_out", start_from_trigger=True, timeout=15)

with DAG(dag_id="e2e_worker_death", start_date=START, schedule=None, catchup=False, tags=["e2e"]) as e2e_worker_death:
    # Waits in the worker (poke style), so killing the task's process kills the wait mid-job.
    TriggerJobOperator(
        task_id="run_job",
        job=POPULATE,
        wait_for_completion=True,
        poll_interval=1,
        retries=1,
        retry_delay=timedelta(seconds=1),
        on_execute_callback=leave_pid_file,
    )


def provider_origin() -> dict[str, Any]:
    """Where the task process loaded the provider from, its version, and the processes it runs under."""
    from importlib.metadata import version

    import psutil

    import airflow_jobs_provider

    parents = [" ".join(parent.cmdline()) for parent in psutil.Process().parents()]
    return {"file": airflow_jobs_provider.__file__, "version": version("airflow-jobs-provider"), "parents": parents}


with DAG(dag_id="e2e_provider_origin", start_date=START, schedule=None, catchup=False, tags=["e2e"]) as origin_dag:
    PythonOperator(task_id="origin", python_callable=provider_origin)


with DAG(dag_id="e2e_deferred_start", start_date=START, schedule=None, catchup=False, tags=["e2e"]) as deferred_start:
    # The operator itself defers: it starts the job, then waits for it in the triggerer.
    TriggerJobOperator(task_id="start", job=POPULATE, wait_for_completion=True, deferrable=True, poll_interval=1)

KEBOOLA_JOB = {"component": "keboola.ex-db-snowflake", "config": "e2e-batch", "mode": "run"}

with DAG(dag_id="e2e_keboola_watch", start_date=START, schedule=None, catchup=False, tags=["e2e"]) as keboola_watch:
    # Keboola reads many jobs in one search: the watches of one triggerer share its batched polls.
    start = TriggerJobOperator(task_id="start", jobs_conn_id="jobs_keboola", job=KEBOOLA_JOB)
    watch = JobSensor(
        task_id="watch", jobs_conn_id="jobs_keboola", job_id=JOB_ID, deferrable=True, poke_interval=1, timeout=600
    )
    start >> watch
