"""Steps the e2e tests share: wait for a task to reach a state, and find the job a run started."""

from __future__ import annotations

from typing import Any

from tests.e2e.deployment import Deployment
from tests.support.polling import poll_until

FINAL_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
STEP_TIMEOUT = 120.0
"""Generous bound for one step (a task start, a deferral); typical steps take 2-10 s."""


def wait_for_task(live: Deployment, dag_id: str, run_id: str, task_id: str, state: str) -> dict[str, Any]:
    """Wait until the task is in ``state``; fail at once if it ends in another state instead."""

    def reached() -> dict[str, Any] | None:
        ti = live.api.task_instance(dag_id, run_id, task_id)
        if ti["state"] == state:
            return ti
        if ti["state"] in FINAL_TASK_STATES:
            raise AssertionError(f"{dag_id}/{run_id}/{task_id} ended {ti['state']} before reaching {state}")
        return None

    return poll_until(reached, timeout=STEP_TIMEOUT, interval=0.5, what=f"{dag_id}/{run_id}/{task_id} to be {state}")


def job_of(live: Deployment, dag_id: str, run_id: str, start: str = "start") -> dict[str, Any]:
    """The emulator's view of the job the run's ``start`` task started (its ``job_id`` XCom)."""
    job_id = live.api.xcom(dag_id, run_id, start, "job_id")
    assert live.emulator is not None
    (job,) = [job for job in live.emulator.jobs("tinybird") if job["id"] == job_id]
    return job


def wait_until_polled(live: Deployment, dag_id: str, run_id: str, start: str = "start") -> dict[str, Any]:
    """Wait until the trigger has polled the job twice (the sensor's first poke is read number one).

    Two polls mean the trigger runs in the triggerer, and the deferring try's worker has had
    a poll interval to exit.
    """
    return poll_until(
        lambda: (job := job_of(live, dag_id, run_id, start))["gets"] >= 3 and job,
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what=f"the trigger of {dag_id}/{run_id} to poll its job",
    )
