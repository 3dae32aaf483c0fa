"""A deferred sensor whose job outlives ``timeout`` fails with AirflowSensorTimeout in a live
deployment, and ``cancel_on_timeout=True`` also cancels the job.

Whichever of the two timeouts fires first (the trigger's own deadline, or the deferral timeout
the scheduler checks every second) the task ends the same way; both runs go together.
"""

from __future__ import annotations

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.scenario import STEP_TIMEOUT, job_of
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
DAGS = ("e2e_watch_times_out", "e2e_watch_times_out_cancels")


@pytest.fixture(scope="module")
def runs(deployment: Deployment) -> dict[str, str]:
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("tinybird", duration=600, queue_seconds=0.1, times=len(DAGS))
    for dag_id in DAGS:
        deployment.api.trigger(dag_id, "timeout")
    return {dag_id: deployment.api.wait_for_run(dag_id, "timeout") for dag_id in DAGS}


@pytest.mark.parametrize("dag_id", DAGS)
def test_the_sensor_fails_with_a_timeout(deployment, runs, dag_id):
    assert runs[dag_id] == "failed"
    assert deployment.api.task_states(dag_id, "timeout") == {"start": "success", "watch": "failed"}
    log = deployment.api.task_log(dag_id, "timeout", "watch")
    assert "Pausing task as DEFERRED" in log, "the timeout must hit the deferred watch"
    assert "AirflowSensorTimeout" in log


def test_by_default_the_job_keeps_running(deployment, runs):
    job = job_of(deployment, "e2e_watch_times_out", "timeout")
    assert not job["cancel_requested"]
    assert job["raw_status"] == "working"


def test_cancel_on_timeout_cancels_the_job(deployment, runs):
    job = poll_until(
        lambda: (job := job_of(deployment, "e2e_watch_times_out_cancels", "timeout"))["raw_status"] == "cancelled"
        and job,
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="the timed-out job to be cancelled",
    )
    assert job["cancel_requested"]
    log = deployment.api.task_log("e2e_watch_times_out_cancels", "timeout", "watch")
    assert "because the sensor timed out" in log
