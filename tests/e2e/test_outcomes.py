"""How a job ends decides how the deferred sensor ends, through a real triggerer.

All five runs are deferred at the same time, so their triggers share one triggerer loop; the
test then pins each job to its final state on the emulator. Pinning only after the deferral
proves the answer came through the trigger, not through the sensor's first poke. Waiting for the
trigger's second poll first also keeps clear of an Airflow 3.3 race (apache/airflow#72716): a
trigger that fires within a second or so of the deferral can get its resumed try failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.scenario import job_of, wait_for_task, wait_until_polled

pytestmark = pytest.mark.e2e
API_ERROR = "quota exceeded for workspace e2e (code 7)"


@dataclass(frozen=True)
class Case:
    dag_id: str
    raw_status: str  # what the job is pinned to once the sensor is deferred
    start: str = "start"
    watch: str = "watch"


CASES = {
    "success": Case("e2e_watch", "done"),
    "failed": Case("e2e_watch", "error"),
    "cancelled": Case("e2e_watch", "cancelled"),
    "soft-fail": Case("e2e_watch_soft_fail", "error"),
    "example": Case("example_deferrable_monitor", "done", start="start_populate", watch="watch_populate"),
}


@pytest.fixture(scope="module")
def runs(deployment: Deployment) -> dict[str, str]:
    """Run every case at once; returns each run's final state by case name."""
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("tinybird", duration=600, queue_seconds=0.1, error=API_ERROR, times=len(CASES))
    for name, case in CASES.items():
        deployment.api.trigger(case.dag_id, name)
    for name, case in CASES.items():
        wait_for_task(deployment, case.dag_id, name, case.watch, "deferred")
    for name, case in CASES.items():
        job = wait_until_polled(deployment, case.dag_id, name, case.start)
        emulator.force_state("tinybird", job["id"], case.raw_status)
    return {name: deployment.api.wait_for_run(case.dag_id, name) for name, case in CASES.items()}


def states(deployment: Deployment, name: str) -> dict[str, str | None]:
    return deployment.api.task_states(CASES[name].dag_id, name)


def watch_log(deployment: Deployment, name: str) -> str:
    case = CASES[name]
    return deployment.api.task_log(case.dag_id, name, case.watch)


@pytest.mark.parametrize("name", ["success", "example"])
def test_a_job_that_succeeds_passes_the_sensor_with_its_final_state(deployment, runs, name):
    case = CASES[name]
    assert runs[name] == "success", states(deployment, name)
    final = deployment.api.xcom(case.dag_id, name, case.watch)
    assert final["status"] == "SUCCEEDED"
    assert final["raw_status"] == "done"
    assert final["job_id"] == job_of(deployment, case.dag_id, name, case.start)["id"]


def test_a_failed_job_fails_the_task_with_the_apis_own_message(deployment, runs):
    assert runs["failed"] == "failed"
    assert states(deployment, "failed") == {"start": "success", "watch": "failed"}
    log = watch_log(deployment, "failed")
    assert "JobFailedError" in log
    assert API_ERROR in log


def test_a_cancelled_job_fails_the_task(deployment, runs):
    assert runs["cancelled"] == "failed"
    assert states(deployment, "cancelled") == {"start": "success", "watch": "failed"}
    assert "JobCancelledError" in watch_log(deployment, "cancelled")


def test_soft_fail_turns_a_failed_job_into_a_skip(deployment, runs):
    assert runs["soft-fail"] == "success"  # a skipped leaf does not fail the run
    assert states(deployment, "soft-fail") == {"start": "success", "watch": "skipped"}


def test_each_answer_came_through_the_trigger(deployment, runs):
    """Each watch deferred once, and its log holds the trigger's lines, read from the triggerer.

    The e2e DAGs start on a worker (``start_from_trigger=False``: today's path, which defers);
    the example's sensor starts in the triggerer (the default on 3.3, test_start_from_trigger.py).
    """
    for name, case in CASES.items():
        assert deployment.api.task_instance(case.dag_id, name, case.watch)["try_number"] == 1
        log = watch_log(deployment, name)
        started_on_worker = name != "example"
        assert ("Pausing task as DEFERRED" in log) is started_on_worker, name
        assert "Trigger fired event" in log, name
