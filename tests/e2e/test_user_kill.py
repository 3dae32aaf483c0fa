"""Marking a deferred task failed from the API reaches the trigger's ``on_kill`` (Airflow 3.3),
which cancels the job when the task asked for it (``cancel_on_kill=True``), and only then.
"""

from __future__ import annotations

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.scenario import STEP_TIMEOUT, job_of, wait_for_task, wait_until_polled
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
RUN = "mark-failed"
CANCELS, KEEPS = "e2e_watch", "e2e_watch_no_cancel"


@pytest.fixture(scope="module")
def marked(deployment: Deployment) -> dict[str, str]:
    """Both watches deferred and polling, then marked failed; returns each job's id."""
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("tinybird", duration=600, queue_seconds=0.1, times=2)
    for dag_id in (CANCELS, KEEPS):
        deployment.api.trigger(dag_id, RUN)
    jobs = {}
    for dag_id in (CANCELS, KEEPS):
        wait_for_task(deployment, dag_id, RUN, "watch", "deferred")
        jobs[dag_id] = wait_until_polled(deployment, dag_id, RUN)["id"]
    for dag_id in (CANCELS, KEEPS):
        deployment.api.set_task_state(dag_id, RUN, "watch", "failed")
    return jobs


def test_the_job_is_cancelled_through_on_kill(deployment, marked):
    job = poll_until(
        lambda: (job := job_of(deployment, CANCELS, RUN))["raw_status"] == "cancelled" and job,
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="the job of the killed task to be cancelled",
    )
    assert job["id"] == marked[CANCELS]
    assert deployment.api.wait_for_run(CANCELS, RUN) == "failed"
    assert deployment.api.task_states(CANCELS, RUN) == {"start": "success", "watch": "failed"}
    assert on_kill_called(deployment, CANCELS)
    assert f"cancelled job {job['id']} on task kill" in deployment.api.task_log(CANCELS, RUN, "watch")


def test_without_cancel_on_kill_the_job_keeps_running(deployment, marked):
    assert deployment.api.wait_for_run(KEEPS, RUN) == "failed"
    poll_until(
        lambda: on_kill_called(deployment, KEEPS),
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="the triggerer to call on_kill",
    )
    job = job_of(deployment, KEEPS, RUN)
    assert not job["cancel_requested"]
    assert job["raw_status"] == "working"


def on_kill_called(deployment: Deployment, dag_id: str) -> bool:
    """The triggerer's line for this trigger, which lands in the task's log (its trigger part)."""
    return "Trigger cancelled by user action, invoking on_kill" in deployment.api.task_log(dag_id, RUN, "watch")
