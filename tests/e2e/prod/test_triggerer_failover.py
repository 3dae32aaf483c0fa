"""Two triggerers share the deferred tasks; one is SIGKILLed and the other adopts its triggers.

Three deferrable ``JobSensor``s (``e2e_watch``) and three deferrable ``TriggerJobOperator``s
(``e2e_deferred_start``) defer; the trigger table shows each triggerer holding three (capacity 3).
``triggerer-1`` and its trigger runner are SIGKILLed. Two of its jobs end while nobody watches
them. Its triggers stay assigned to the dead TriggererJob until the heartbeat is stale; the
survivor, full, adopts them once its own jobs end and free room. Every run ends with the state
its job really ended in, on its first try, and the emulator saw six jobs started, no more.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.prod.deployment import TRIGGERER_CAPACITY, TRIGGERERS, ProductionDeployment
from tests.e2e.scenario import STEP_TIMEOUT, wait_for_task
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
API_ERROR = "node lost during the failover (code 7)"
DEFERRED_TASK = {"e2e_watch": "watch", "e2e_deferred_start": "start"}
RUNS = [(dag_id, f"failover-{number}") for dag_id in DEFERRED_TASK for number in range(3)]


def job_of(deployment: ProductionDeployment, dag_id: str, run_id: str) -> dict[str, Any]:
    assert deployment.emulator is not None
    job_id = deployment.api.xcom(dag_id, run_id, "start", "job_id")
    (job,) = [job for job in deployment.emulator.jobs("tinybird") if job["id"] == job_id]
    return job


def end(deployment: ProductionDeployment, runs: list[tuple[str, str]], endings: dict[tuple[str, str], str]) -> None:
    assert deployment.emulator is not None
    for run in runs:
        deployment.emulator.force_state("tinybird", job_of(deployment, *run)["id"], endings[run])


def test_the_surviving_triggerer_adopts_the_dead_ones_triggers(deployment: ProductionDeployment):
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("tinybird", duration=600, queue_seconds=0.1, error=API_ERROR, times=len(RUNS))
    for dag_id, run_id in RUNS:
        deployment.api.trigger(dag_id, run_id)
    for dag_id, run_id in RUNS:
        wait_for_task(deployment, dag_id, run_id, DEFERRED_TASK[dag_id], "deferred")
    ours = {(dag_id, run_id, DEFERRED_TASK[dag_id]) for dag_id, run_id in RUNS}

    def spread() -> dict[str | None, list[Any]] | None:
        held = deployment.spread({key: who for key, who in deployment.task_triggers().items() if key in ours})
        return held if sorted(held, key=str) == sorted(TRIGGERERS) else None

    held = poll_until(spread, timeout=STEP_TIMEOUT, interval=0.5, what="both triggerers to hold the triggers")
    assert {name: len(keys) for name, keys in held.items()} == dict.fromkeys(TRIGGERERS, TRIGGERER_CAPACITY)
    poll_until(  # every trigger has polled its job: the watches run
        lambda: all(job_of(deployment, dag_id, run_id)["gets"] >= 2 for dag_id, run_id in RUNS),
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="every trigger to poll its job",
    )
    dead_runs = [(dag_id, run_id) for dag_id, run_id, _ in sorted(held["triggerer-1"])]
    live_runs = [(dag_id, run_id) for dag_id, run_id, _ in sorted(held["triggerer-2"])]
    endings = {run: ("done", "error")[index % 2] for index, run in enumerate(dead_runs + live_runs)}

    deployment.components["triggerer-1"].kill_hard()
    polled = {run: job_of(deployment, *run)["gets"] for run in dead_runs}
    end(deployment, dead_runs[:2], endings)  # these end while no triggerer watches them
    # Full (capacity 3), the survivor cannot adopt yet; its own jobs end and free room.
    assert all(who == "triggerer-1" for key, who in deployment.task_triggers().items() if key[:2] in dead_runs)
    end(deployment, live_runs, endings)
    poll_until(
        lambda: all(who == "triggerer-2" for key, who in deployment.task_triggers().items() if key[:2] in dead_runs)
        and all(deployment.api.run_state(*run) != "running" for run in live_runs),
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="triggerer-2 to adopt every trigger of the killed triggerer-1",
    )
    end(deployment, dead_runs[2:], endings)

    for run in RUNS:
        dag_id, run_id = run
        expected = "success" if endings[run] == "done" else "failed"
        assert deployment.api.wait_for_run(dag_id, run_id, timeout=STEP_TIMEOUT) == expected, run
        ti = deployment.api.task_instance(dag_id, run_id, DEFERRED_TASK[dag_id])
        assert ti["try_number"] == 1, f"{run} went on without a retry"
        if expected == "failed":
            assert API_ERROR in deployment.api.task_log(dag_id, run_id, DEFERRED_TASK[dag_id])
        elif dag_id == "e2e_watch":
            assert deployment.api.xcom(dag_id, run_id, "watch")["raw_status"] == "done"
    for run in dead_runs:
        assert job_of(deployment, *run)["gets"] > polled[run], f"the survivor polled {run}'s job"
    assert len(emulator.jobs("tinybird")) == len(RUNS), "no job was started twice"
