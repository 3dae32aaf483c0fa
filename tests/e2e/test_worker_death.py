"""A worker that dies mid-wait does not cost a second job: the retry reconnects (Airflow 3.3).

TriggerJobOperator saves the job id in the task state store right after the start. The test
SIGKILLs the task's process while it polls the job (``wait_for_completion=True`` in the worker),
as an OOM kill or a lost node would. The supervisor reports the try failed, the scheduler
retries it, and the retry finds the id and watches the same job to the end.
"""

from __future__ import annotations

import os
import signal

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.scenario import STEP_TIMEOUT
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
DAG_ID, RUN = "e2e_worker_death", "worker-death"


def test_the_retry_reconnects_to_the_job_the_dead_try_started(deployment: Deployment):
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("tinybird", duration=12, queue_seconds=0.1)
    deployment.api.trigger(DAG_ID, RUN)

    pid_file = deployment.runtime / f"{DAG_ID}.{RUN}.1.pid"
    (job,) = poll_until(
        lambda: pid_file.exists() and [job for job in emulator.jobs("tinybird") if job["gets"] >= 1],
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="the first try to poll the job it started",
    )
    os.kill(int(pid_file.read_text()), signal.SIGKILL)

    assert deployment.api.wait_for_run(DAG_ID, RUN) == "success"
    jobs = emulator.jobs("tinybird")
    assert [j["id"] for j in jobs] == [job["id"]], "the retry started a second job"
    assert jobs[0]["raw_status"] == "done"
    ti = deployment.api.task_instance(DAG_ID, RUN, "run_job")
    assert ti["try_number"] == 2
    assert (deployment.runtime / f"{DAG_ID}.{RUN}.2.pid").exists(), "the retry ran in a new process"
    assert f"Reconnecting to job {job['id']}" in deployment.api.task_log(DAG_ID, RUN, "run_job", 2)
    assert deployment.api.xcom(DAG_ID, RUN, "run_job") == job["id"]
