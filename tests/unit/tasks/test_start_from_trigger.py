"""When a JobSensor starts in the triggerer, and proof that every outcome the trigger ends there is
the one the worker's ``execute_complete`` reaches from the same event (today's deferrable path).

The worker side is the sensor's own ``resume_execution``; the triggerer side is ``end_event``.
Each pair is compared case by case: an ending in the triggerer must match the worker's outcome
exactly (XCom included), and whatever the trigger hands back is decided by the worker as today.
"""

from __future__ import annotations

import itertools
import logging
from datetime import timedelta
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout, AirflowSkipException

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.sensors.jobs import JobSensor
from airflow_jobs_provider.tasks.start_from_trigger import DEADLINE_MARGIN, TaskEnds, blocker, task_ends
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_3_PLUS
from tests.support.triggerer import FakeSupervisor, supervisor_comms

needs_3_3 = pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="the scheduler starts tasks in the triggerer from 3.3")
LOG = logging.getLogger(__name__)


class PushedXComs:
    """The task instance a trigger started by the scheduler holds, and the XComs pushed for it.

    The push goes through the SDK's ``XCom.set`` to ``SUPERVISOR_COMMS`` (tests/support/triggerer.py
    records what the triggerer's supervisor would forward to the execution API).
    """

    dag_id, run_id, task_id, map_index = "d", "r", "watch", -1

    def __init__(self) -> None:
        self.supervisor = FakeSupervisor()

    @property
    def pushed(self) -> list[tuple[str, Any]]:
        return [(key, value) for *_, key, value in self.supervisor.xcoms]


def job(status: JobStatus, message: str | None = None) -> Job:
    raw = {JobStatus.SUCCEEDED: "done", JobStatus.FAILED: "error", JobStatus.CANCELLED: "cancelled"}.get(
        status, "working"
    )
    return Job(job_id="j1", status=status, raw_status=raw, message=message)


def trigger_events() -> dict[str, dict[str, Any]]:
    from airflow_jobs_provider.triggers.jobs import job_event

    running = job(JobStatus.RUNNING)
    return {
        "success": job_event("success", job(JobStatus.SUCCEEDED)),
        "failed": job_event("failed", job(JobStatus.FAILED, "quota exceeded")),
        "cancelled": job_event("cancelled", job(JobStatus.CANCELLED)),
        "timeout": {**job_event("timeout", running, "still RUNNING at the deadline"), "deadline_source": "timeout"},
        "error": {"status": "error", "job_id": "j1", "message": "job j1 not found", "error_class": "JobNotFoundError"},
        "unknown state": {
            "status": "error",
            "job_id": "j1",
            "message": "raw state odd",
            "error_class": "UnknownJobStateError",
        },
    }


def worker_outcome(sensor: JobSensor, event: dict[str, Any]) -> tuple[str, Any]:
    """What today's path ends the task with: ("success", xcom), ("skipped", None), ("failed", retried?)."""
    try:
        value = sensor.resume_execution("execute_complete", {"event": event}, context={})  # type: ignore[arg-type]
    except AirflowSkipException:
        return "skipped", None
    except (AirflowFailException, AirflowSensorTimeout):
        return "failed", False  # failed for good, whatever the task's retries
    except Exception:
        return "failed", bool(sensor.retries)
    return "success", value


OPTIONS = [
    options
    for options in [
        dict(zip(("soft_fail", "never_fail", "retries", "do_xcom_push", "callback"), values, strict=True))
        for values in itertools.product(
            (False, True),
            (False, True),
            (0, 2),
            (True, False),
            (None, "on_success_callback", "on_failure_callback", "on_skipped_callback"),
        )
    ]
    if not (options["soft_fail"] and options["never_fail"])  # Airflow refuses both
]


def sensor_with(options: dict[str, Any]) -> JobSensor:
    kwargs = {key: value for key, value in options.items() if key != "callback"}
    if options["callback"]:
        kwargs[options["callback"]] = lambda context: None
    return JobSensor(task_id="watch", job_id="j1", deferrable=True, poke_interval=1, timeout=60, **kwargs)


@pytest.mark.parametrize("options", OPTIONS, ids=lambda options: "-".join(f"{k}={v}" for k, v in options.items()))
@needs_3_3
def test_what_the_trigger_ends_is_what_the_worker_would_end_it_with(options):
    from airflow.triggers.base import TaskFailedEvent, TaskSkippedEvent, TaskSuccessEvent

    from airflow_jobs_provider.triggers.task_end import end_event

    sensor = sensor_with(options)
    ends = TaskEnds.from_json(task_ends(sensor).to_json())
    assert ends is not None
    for kind, event in trigger_events().items():
        ti = PushedXComs()
        with supervisor_comms(ti.supervisor):
            ending = end_event(event, ends, LOG, ti)
        outcome, detail = worker_outcome(sensor, event)
        if ending is None:
            assert ti.pushed == [], kind  # handed back: the worker decides, as today
            continue
        if isinstance(ending, TaskSuccessEvent):
            assert outcome == "success", kind
            assert ti.pushed == ([("return_value", detail)] if sensor.do_xcom_push else []), kind
            assert ending.xcoms is None
        elif isinstance(ending, TaskSkippedEvent):
            assert outcome == "skipped", kind
        else:
            assert isinstance(ending, TaskFailedEvent)
            assert (outcome, detail) == ("failed", False), kind
            assert sensor.retries == 0, "3.3 retries a TaskFailedEvent when the task has retries"
        assert ti.pushed == [] or isinstance(ending, TaskSuccessEvent)


@needs_3_3
def test_with_no_retries_and_no_callbacks_every_job_outcome_ends_in_the_triggerer():
    from airflow.triggers.base import TaskFailedEvent, TaskSkippedEvent, TaskSuccessEvent

    from airflow_jobs_provider.triggers.task_end import end_event

    events = trigger_events()
    plain = task_ends(
        sensor_with({"soft_fail": False, "never_fail": False, "retries": 0, "do_xcom_push": True, "callback": None})
    )
    soft = task_ends(
        sensor_with({"soft_fail": True, "never_fail": False, "retries": 0, "do_xcom_push": True, "callback": None})
    )
    ti = PushedXComs()
    with supervisor_comms(ti.supervisor):
        assert isinstance(end_event(events["success"], plain, LOG, ti), TaskSuccessEvent)
    assert ti.pushed == [("return_value", events["success"]["job"])]
    for kind in ("failed", "cancelled", "timeout"):
        assert isinstance(end_event(events[kind], plain, LOG, PushedXComs()), TaskFailedEvent), kind
        assert isinstance(end_event(events[kind], soft, LOG, PushedXComs()), TaskSkippedEvent), kind
    assert end_event(events["error"], plain, LOG, PushedXComs()) is None, "an API error keeps its retries"


@needs_3_3
def test_cancel_on_timeout_and_execution_timeouts_go_back_to_a_worker():
    from airflow_jobs_provider.triggers.task_end import end_event

    timeout = trigger_events()["timeout"]
    cancels = task_ends(
        JobSensor(task_id="w", job_id="j", deferrable=True, poke_interval=1, timeout=60, cancel_on_timeout=True)
    )
    assert end_event(timeout, cancels, LOG, PushedXComs()) is None  # the worker cancels the job, as today
    plain = task_ends(JobSensor(task_id="w", job_id="j", deferrable=True, poke_interval=1, timeout=60))
    assert end_event({**timeout, "deadline_source": "execution_timeout"}, plain, LOG, PushedXComs()) is None


@needs_3_3
def test_a_success_needing_the_xcom_without_a_task_instance_to_push_it_goes_back():
    from airflow_jobs_provider.triggers.task_end import end_event

    plain = task_ends(JobSensor(task_id="w", job_id="j", deferrable=True, poke_interval=1, timeout=60))
    assert end_event(trigger_events()["success"], plain, LOG, None) is None


# ------------------------------------------------------------------ when the sensor starts in the triggerer


def make(**kwargs: Any) -> JobSensor:
    return JobSensor(task_id="w", job_id="{{ dag_run.conf['job_id'] }}", poke_interval=1, timeout=60, **kwargs)


@needs_3_3
def test_a_deferrable_sensor_starts_in_the_triggerer_with_its_templates_as_written():
    sensor = make(deferrable=True, status_overrides={"warning": "SUCCEEDED"})
    assert sensor.start_from_trigger_blocker is None
    assert sensor.start_from_trigger is True
    args = sensor.start_trigger_args
    assert args.trigger_cls == "airflow_jobs_provider.triggers.jobs.JobStatusTrigger"
    assert args.next_method == "execute_complete"
    assert args.timeout == timedelta(seconds=60 + DEADLINE_MARGIN)
    assert args.trigger_kwargs["job_id"] == "{{ dag_run.conf['job_id'] }}"  # the triggerer renders it
    assert args.trigger_kwargs["status_overrides"] == {"warning": "SUCCEEDED"}
    assert args.trigger_kwargs["deadline"] is None


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"deferrable": False}, "not deferrable"),
        ({"deferrable": True, "start_from_trigger": False}, "start_from_trigger=False"),
        ({"deferrable": True, "silent_fail": True}, "silent_fail"),
        ({"deferrable": True, "on_execute_callback": lambda context: None}, "on_execute_callback"),
        ({"deferrable": True, "execution_timeout": timedelta(minutes=5)}, "execution_timeout"),
    ],
)
def test_what_keeps_a_sensor_on_a_worker(options, reason):
    sensor = make(**options)
    expected = reason if AIRFLOW_V_3_3_PLUS or reason in ("not deferrable", "start_from_trigger=False") else "Airflow"
    assert expected in str(sensor.start_from_trigger_blocker)
    assert sensor.start_from_trigger is False
    assert sensor.start_trigger_args is None


@pytest.mark.skipif(AIRFLOW_V_3_3_PLUS, reason="the versions before 3.3")
def test_before_airflow_3_3_the_sensor_starts_on_a_worker():
    sensor = make(deferrable=True)
    assert "from Airflow 3.3 on" in str(sensor.start_from_trigger_blocker)
    assert sensor.start_from_trigger is False


def test_the_blocker_rule_is_the_one_the_sensor_uses():
    sensor = make(deferrable=True)
    assert blocker(sensor, wanted=True) == sensor.start_from_trigger_blocker
