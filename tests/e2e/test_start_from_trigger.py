"""A deferrable JobSensor that the scheduler starts in the triggerer never runs on a worker.

The watch's ``job_id`` is a template (the start task's XCom), rendered in the triggerer. Each
run ends the way today's deferrable path ends it (test_outcomes.py, test_timeouts.py): success
with the job as XCom, FAILED and CANCELLED fail with the API's message, ``soft_fail`` skips,
``timeout`` fails with AirflowSensorTimeout. And no worker took part: the executor never had
the task instance queued (no ``queued_when``, no hostname, no pid), no worker wrote a log file
for it, and its log is the triggerer's alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.scenario import job_of, wait_for_task, wait_until_polled

pytestmark = pytest.mark.e2e
API_ERROR = "row limit exceeded in node e2e_node (code 9)"


@dataclass(frozen=True)
class Case:
    dag_id: str
    raw_status: str | None  # what the job is pinned to once the watch is deferred; None: left running


CASES = {
    "success": Case("e2e_triggerer_only", "done"),
    "failed": Case("e2e_triggerer_only", "error"),
    "cancelled": Case("e2e_triggerer_only", "cancelled"),
    "soft-fail": Case("e2e_triggerer_only_soft_fail", "error"),
    "timeout": Case("e2e_triggerer_only_times_out", None),
}


@pytest.fixture(scope="module")
def runs(deployment: Deployment) -> dict[str, str]:
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("tinybird", duration=600, queue_seconds=0.1, error=API_ERROR, times=len(CASES))
    for name, case in CASES.items():
        deployment.api.trigger(case.dag_id, name)
    for name, case in CASES.items():
        wait_for_task(deployment, case.dag_id, name, "watch", "deferred")
    for name, case in CASES.items():
        if case.raw_status is not None:  # the timeout's job keeps running (its deadline may pass first)
            job = wait_until_polled(deployment, case.dag_id, name)
            emulator.force_state("tinybird", job["id"], case.raw_status)
    return {name: deployment.api.wait_for_run(case.dag_id, name) for name, case in CASES.items()}


def watch_log(deployment: Deployment, name: str) -> str:
    return deployment.api.task_log(CASES[name].dag_id, name, "watch")


def test_the_templated_job_id_is_rendered_in_the_triggerer_and_the_job_is_the_xcom(deployment, runs):
    assert runs["success"] == "success"
    final = deployment.api.xcom("e2e_triggerer_only", "success", "watch")
    assert final["status"] == "SUCCEEDED"
    assert final["raw_status"] == "done"
    assert final["job_id"] == job_of(deployment, "e2e_triggerer_only", "success")["id"]
    assert f"Summary: job {final['job_id']} SUCCEEDED" in watch_log(deployment, "success"), "no worker logs it"


def test_a_failed_job_fails_the_task_with_the_apis_own_message(deployment, runs):
    assert runs["failed"] == "failed"
    assert deployment.api.task_states("e2e_triggerer_only", "failed") == {"start": "success", "watch": "failed"}
    log = watch_log(deployment, "failed")
    assert "JobFailedError" in log
    assert "Summary: job " in log and " FAILED" in log
    assert API_ERROR in log


def test_a_cancelled_job_fails_the_task(deployment, runs):
    assert runs["cancelled"] == "failed"
    assert deployment.api.task_states("e2e_triggerer_only", "cancelled") == {"start": "success", "watch": "failed"}
    assert "JobCancelledError" in watch_log(deployment, "cancelled")


def test_soft_fail_turns_a_failed_job_into_a_skip(deployment, runs):
    assert runs["soft-fail"] == "success"
    assert deployment.api.task_states("e2e_triggerer_only_soft_fail", "soft-fail") == {
        "start": "success",
        "watch": "skipped",
    }


def test_a_timeout_fails_the_task_like_a_sensor_timeout(deployment, runs):
    assert runs["timeout"] == "failed"
    assert "AirflowSensorTimeout" in watch_log(deployment, "timeout")
    assert job_of(deployment, "e2e_triggerer_only_times_out", "timeout")["raw_status"] == "working"


@pytest.mark.parametrize("name", list(CASES))
def test_no_worker_ran_the_watch(deployment, runs, name):
    """The executor never queued it, no worker logged for it, and the log is the triggerer's."""
    case = CASES[name]
    ti = deployment.api.task_instance(case.dag_id, name, "watch")
    assert ti["try_number"] == 1
    assert ti["queued_when"] is None, ti
    assert not ti["hostname"] and not ti["pid"], ti
    logs = Path(deployment.logs, f"dag_id={case.dag_id}", f"run_id={name}", "task_id=watch")
    files = sorted(path.name for path in logs.iterdir())
    assert files and all(".trigger." in file for file in files), files  # a worker writes attempt=1.log
    log = watch_log(deployment, name)
    assert "Trigger fired event" in log
    assert "Pausing task as DEFERRED" not in log  # what a worker's deferral says
    start = deployment.api.task_instance(case.dag_id, name, "start")
    assert start["queued_when"] is not None and start["hostname"], "the start task did run on a worker"
