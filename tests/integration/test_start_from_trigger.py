"""A JobSensor's trigger as the scheduler starts it (Airflow 3.3): from the sensor's own
``start_trigger_args`` through the serialized DAG, over real HTTP to the emulator, ending the task.

The live proof with a scheduler and a triggerer is tests/e2e/test_start_from_trigger.py; here
the same trigger runs in the test's loop. ``dag.test()`` never starts a task in the triggerer
(it schedules every task onto its in-process worker), so the DAG runs below show that a sensor
set to start there still gives today's outcome on the worker path, on every Airflow.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_jobs_provider.sensors.jobs import JobSensor
from airflow_jobs_provider.tasks.start_from_trigger import DEADLINE_MARGIN
from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_3_PLUS
from tests.support.dagrun import run_dag
from tests.support.jobs import SLOW_START, start_tinybird_job
from tests.support.triggerer import FakeSupervisor, supervisor_comms

needs_3_3 = pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="the scheduler starts tasks in the triggerer from 3.3")


class StartedTaskInstance:
    """What the triggerer gives a trigger it started (a RuntimeTaskInstance): its ids and its task.

    XComs go through the SDK to ``SUPERVISOR_COMMS``: the triggerer's supervisor, here the
    recording one of tests/support/triggerer.py.
    """

    dag_id, run_id, task_id, map_index = "started", "manual_1", "watch", -1

    def __init__(self) -> None:
        self.task = None
        self.supervisor = FakeSupervisor()

    @property
    def pushed(self) -> list[tuple[str, Any]]:
        return [(key, value) for *_, key, value in self.supervisor.xcoms]


def started_trigger(job_id: str, timeout: float = 60, **sensor: Any) -> tuple[JobStatusTrigger, StartedTaskInstance]:
    """The trigger the triggerer builds: kwargs from the serialized DAG, the template rendered, timeout_after set."""
    from airflow.sdk import DAG
    from airflow.serialization.decoders import smart_decode_trigger_kwargs
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG("started", start_date=datetime(2026, 1, 1), schedule=None) as dag:
        JobSensor(task_id="watch", job_id="{{ dag_run.conf['job_id'] }}", deferrable=True, poke_interval=0.1,
                  timeout=timeout, **sensor)  # fmt: skip
    task = DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task("watch")
    assert task.start_from_trigger is True
    args = task.start_trigger_args
    kwargs = {
        key: smart_decode_trigger_kwargs(value)
        for key, value in smart_decode_trigger_kwargs(args.trigger_kwargs).items()
    }
    trigger = JobStatusTrigger(**{**kwargs, "job_id": job_id})  # job_id as the triggerer renders it
    ti = StartedTaskInstance()
    trigger.task_instance = ti  # type: ignore[assignment]
    trigger.timeout_after = datetime.now(timezone.utc) + args.timeout  # type: ignore[attr-defined]
    return trigger, ti


async def events_of(trigger: JobStatusTrigger) -> list[Any]:
    with supervisor_comms(trigger.task_instance.supervisor):  # type: ignore[union-attr]
        return [event async for event in trigger.run()]


@needs_3_3
async def test_a_success_ends_the_task_in_the_triggerer_with_the_job_as_xcom(live):
    from airflow.triggers.base import TaskSuccessEvent

    job_id = start_tinybird_job(live, "succeeded", duration=0.5)
    trigger, ti = started_trigger(job_id)
    (event,) = await events_of(trigger)
    assert isinstance(event, TaskSuccessEvent)
    ((key, job),) = ti.pushed
    assert key == "return_value"
    assert job["job_id"] == job_id and job["status"] == "SUCCEEDED"


@needs_3_3
@pytest.mark.parametrize("outcome", ["failed", "cancelled"])
async def test_a_failed_or_cancelled_job_fails_or_soft_fail_skips_in_the_triggerer(live, outcome, capsys):
    from airflow.triggers.base import TaskFailedEvent, TaskSkippedEvent

    job_id = start_tinybird_job(live, outcome, error="disk full on node 7")
    trigger, ti = started_trigger(job_id)
    (event,) = await events_of(trigger)
    assert isinstance(event, TaskFailedEvent)
    assert ("JobFailedError" if outcome == "failed" else "JobCancelledError") in capsys.readouterr().out
    soft, _ = started_trigger(start_tinybird_job(live, outcome), soft_fail=True)
    (skipped,) = await events_of(soft)
    assert isinstance(skipped, TaskSkippedEvent)
    assert ti.pushed == []


@needs_3_3
async def test_the_deadline_comes_before_the_deferrals_own_timeout(live):
    from airflow.triggers.base import TaskFailedEvent

    job_id = start_tinybird_job(live, "succeeded", duration=600)
    trigger, _ = started_trigger(job_id, timeout=1)
    started = time.monotonic()
    (event,) = await events_of(trigger)
    assert isinstance(event, TaskFailedEvent)  # AirflowSensorTimeout: no retries, the same as on a worker
    assert time.monotonic() - started < DEADLINE_MARGIN, "the trigger's own deadline, not the scheduler's check"


@needs_3_3
async def test_an_api_error_goes_back_to_a_worker_with_todays_event(live):
    trigger, _ = started_trigger("no-such-job")
    (event,) = await events_of(trigger)
    assert event.payload["status"] == "error"  # execute_complete raises it: the task's retries apply


@needs_3_3
async def test_retries_send_a_failed_job_back_to_a_worker(live):
    job_id = start_tinybird_job(live, "failed")
    trigger, _ = started_trigger(job_id, retries=2, retry_delay=timedelta(seconds=1))
    (event,) = await events_of(trigger)
    assert event.payload["status"] == "failed"  # the worker fails it for good (AirflowFailException), as today


@pytest.mark.usefixtures("airflow_db")
def test_on_the_worker_path_a_sensor_set_to_start_in_the_triggerer_ends_as_today(live):
    """dag.test() (every Airflow) runs the sensor_deferrable DAG's watch on its worker: today's outcome."""
    job_id = start_tinybird_job(live, "succeeded", duration=SLOW_START)
    result = run_dag("sensor_deferrable", {"job_id": job_id})
    assert result.task_states == {"wait": "success"}
    assert result.xcom("wait")["job_id"] == job_id
