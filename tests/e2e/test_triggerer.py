"""The triggerer can die. A watch survives a SIGKILLed triggerer, and a deferral still times out
while no triggerer runs at all.

A dead triggerer's triggers stay in the database, assigned to it. Once its heartbeat is older
than ``[triggerer] triggerer_health_check_threshold`` (5 s here, 30 s by default) a new
triggerer adopts them and runs them from the start: the trigger polls the job again, so a job
that ended during the outage is reported with the state it ended in.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.scenario import STEP_TIMEOUT, job_of, wait_for_task, wait_until_polled
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
API_ERROR = "node lost during the outage (code 12)"
ENDINGS = {"restart-success": "done", "restart-failed": "error"}


@pytest.fixture
def triggerer_comes_back(deployment: Deployment) -> Iterator[None]:
    """Whatever the test does, the next test has a triggerer again."""
    yield
    if not deployment.components["triggerer"].running:
        deployment.restart("triggerer")


def kill_triggerer(deployment: Deployment) -> None:
    """SIGKILL the triggerer and its trigger runner."""
    deployment.components["triggerer"].kill_hard()


def wait_until_reported_dead(deployment: Deployment) -> None:
    """Wait until the killed triggerer's heartbeat is too old: then a new one may adopt its triggers."""
    poll_until(
        lambda: deployment.api.component_health("triggerer") == "unhealthy",
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="the killed triggerer to be reported unhealthy",
    )


def test_jobs_that_end_while_the_triggerer_is_dead_are_reported_after_a_restart(deployment, triggerer_comes_back):
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("tinybird", duration=600, queue_seconds=0.1, error=API_ERROR, times=len(ENDINGS))
    for run_id in ENDINGS:
        deployment.api.trigger("e2e_watch", run_id)
    for run_id in ENDINGS:
        wait_for_task(deployment, "e2e_watch", run_id, "watch", "deferred")
        wait_until_polled(deployment, "e2e_watch", run_id)

    kill_triggerer(deployment)
    polled = {run_id: job_of(deployment, "e2e_watch", run_id)["gets"] for run_id in ENDINGS}
    for run_id, raw_status in ENDINGS.items():  # the jobs end during the outage
        emulator.force_state("tinybird", job_of(deployment, "e2e_watch", run_id)["id"], raw_status)
    wait_until_reported_dead(deployment)
    for run_id in ENDINGS:
        assert job_of(deployment, "e2e_watch", run_id)["gets"] == polled[run_id], "nothing polled while dead"
        assert deployment.api.task_states("e2e_watch", run_id)["watch"] == "deferred"
    deployment.restart("triggerer")

    assert deployment.api.wait_for_run("e2e_watch", "restart-success") == "success"
    assert deployment.api.xcom("e2e_watch", "restart-success", "watch")["raw_status"] == "done"
    assert deployment.api.wait_for_run("e2e_watch", "restart-failed") == "failed"
    assert API_ERROR in deployment.api.task_log("e2e_watch", "restart-failed", "watch")
    for run_id in ENDINGS:
        watch = deployment.api.task_instance("e2e_watch", run_id, "watch")
        assert watch["try_number"] == 1, "the watch went on without a retry"
        assert job_of(deployment, "e2e_watch", run_id)["gets"] > polled[run_id], "the new triggerer polled"
    assert len(emulator.jobs("tinybird")) == len(ENDINGS), "no job was started twice"


def test_a_deferral_times_out_even_with_no_triggerer(deployment, triggerer_comes_back):
    """The scheduler enforces the deferral's timeout itself (``__fail__``): the sensor still fails
    with AirflowSensorTimeout, and ``cancel_on_timeout`` still cancels the job. The trigger's
    ``on_kill`` never runs for a timeout, so this cancel comes from the task."""
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("tinybird", duration=600, queue_seconds=0.1)
    kill_triggerer(deployment)
    deployment.api.trigger("e2e_watch_times_out_cancels", "no-triggerer")

    assert deployment.api.wait_for_run("e2e_watch_times_out_cancels", "no-triggerer") == "failed"

    job = job_of(deployment, "e2e_watch_times_out_cancels", "no-triggerer")
    assert job["gets"] == 1, "only the sensor's first poke read the job: no trigger ever ran"
    assert job["cancel_requested"]
    log = deployment.api.task_log("e2e_watch_times_out_cancels", "no-triggerer", "watch")
    assert "AirflowSensorTimeout" in log
    assert "because the sensor timed out" in log
