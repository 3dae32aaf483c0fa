"""A Celery worker SIGKILLed while a ``TriggerJobOperator`` waits in it: the retry reconnects to the job.

``e2e_worker_death`` waits for its job in the worker (``wait_for_completion=True``, not
deferrable). The test finds the Celery worker whose process tree holds the task and SIGKILLs the
whole worker (its main process, pool, supervisor and task), as a lost node would. Nobody reports
the try's end: the scheduler fails it once its heartbeat is older than
``task_instance_heartbeat_timeout`` (20 s here) and retries it on the surviving worker, where
the task state store (Airflow 3.3, in PostgreSQL) hands it the job id. The emulator saw one job.
"""

from __future__ import annotations

import pytest

from tests.e2e.prod.deployment import WORKERS, ProductionDeployment
from tests.e2e.scenario import STEP_TIMEOUT
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
DAG_ID, RUN = "e2e_worker_death", "celery-worker-death"


def test_the_retry_on_the_other_worker_reconnects_to_the_job(deployment: ProductionDeployment):
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("tinybird", duration=60, queue_seconds=0.1)  # outlives the heartbeat timeout
    deployment.api.trigger(DAG_ID, RUN)

    pid_file = deployment.runtime / f"{DAG_ID}.{RUN}.1.pid"
    (job,) = poll_until(
        lambda: pid_file.exists() and [job for job in emulator.jobs("tinybird") if job["gets"] >= 1],
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="the first try to poll the job it started",
    )
    doomed = deployment.worker_running(int(pid_file.read_text()))
    deployment.components[doomed].kill_hard()

    assert deployment.api.wait_for_run(DAG_ID, RUN, timeout=STEP_TIMEOUT) == "success"
    jobs = emulator.jobs("tinybird")
    assert [j["id"] for j in jobs] == [job["id"]], "the retry started a second job"
    assert jobs[0]["raw_status"] == "done"
    ti = deployment.api.task_instance(DAG_ID, RUN, "run_job")
    assert ti["try_number"] == 2
    assert (deployment.runtime / f"{DAG_ID}.{RUN}.2.pid").exists(), "the retry ran"
    log = deployment.api.task_log(DAG_ID, RUN, "run_job", 2)
    assert f"Reconnecting to job {job['id']}" in log
    (survivor,) = [name for name in WORKERS if name != doomed]
    assert deployment.components[survivor].running and not deployment.components[doomed].running
    assert deployment.api.xcom(DAG_ID, RUN, "run_job") == job["id"]
