"""When a deferrable JobSensor starts straight in the triggerer, and which outcomes the trigger may end there.

Airflow 3.3 lets the scheduler defer a task without a worker (``start_from_trigger`` with
``start_trigger_args``; the triggerer renders the task's templated fields that are trigger
kwargs), and a trigger may end the task itself (``TaskSuccessEvent``, ``TaskFailedEvent``,
``TaskSkippedEvent``): a watch then never takes a worker slot. Every outcome must stay the one
today's deferrable path gives, so a sensor starts in the triggerer only when nothing it needs a
worker for is set (:func:`blocker`), and the trigger ends the task only for the outcomes listed
in :class:`TaskEnds`; any other outcome goes back to a worker (``execute_complete``), as today.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from airflow_jobs_provider.tasks.event_kinds import START_ON_WORKER
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_3_PLUS, AIRFLOW_VERSION

__all__ = ["DEADLINE_MARGIN", "START_ON_WORKER", "TaskEnds", "blocker", "start_trigger_args", "task_ends"]

DEADLINE_MARGIN = 10.0
"""Seconds the deferral's timeout (the scheduler's check) lies past the trigger's own deadline.

Started by the scheduler, the trigger learns its deadline only from the deferral's timeout
(``timeout_after``); the margin lets the trigger's own timeout event come first, as on today's
path (where the deferral's timeout starts after the first look), and keeps the scheduler's
check as the backstop for a triggerer that is down.
"""

CALLBACKS = ("on_success_callback", "on_failure_callback", "on_skipped_callback", "on_retry_callback")


@dataclass(frozen=True)
class TaskEnds:
    """Which outcomes the trigger ends the task with itself (plain JSON in the trigger's kwargs).

    ``fail``: a job outcome or a sensor timeout that fails the task ends it in the triggerer only
    when the task has no retries (on 3.3 ``TaskFailedEvent`` retries a task that has some, where
    ``AirflowFailException`` / ``AirflowSensorTimeout`` fail it for good) and no failure callback
    or email needs the worker's error. ``succeed`` / ``skip``: no callback of that outcome is set
    (Airflow runs success callbacks elsewhere without the worker's context and skipped callbacks
    not at all).
    """

    succeed: bool
    fail: bool
    skip: bool
    soft_fail: bool
    never_fail: bool
    xcom: bool
    cancel_on_timeout: bool

    def to_json(self) -> dict[str, bool]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: Any) -> TaskEnds | None:
        if not isinstance(value, dict):
            return None
        return cls(**{name: bool(value.get(name)) for name in cls.__dataclass_fields__})


def blocker(sensor: Any, wanted: bool) -> str | None:
    """Why ``sensor`` cannot start in the triggerer, or None when it can (said in the docs and the log)."""
    if not wanted:
        return "start_from_trigger=False"
    if not sensor.deferrable:
        return "the sensor is not deferrable"
    if not AIRFLOW_V_3_3_PLUS:
        return (
            f"Airflow {AIRFLOW_VERSION}: the scheduler starts tasks in the triggerer, with templated fields "
            "rendered, from Airflow 3.3 on (3.1 and 3.2 turned start_from_trigger off; 2.11 does not render them)"
        )
    if not all(isinstance(getattr(sensor, name), str) for name in ("job_id", "jobs_conn_id")):
        return "job_id or jobs_conn_id is not a string or template (an XComArg is resolved on a worker)"
    if sensor.silent_fail:
        return "silent_fail=True: the first look's error is logged on a worker and the wait goes on"
    if sensor.on_execute_callback:
        return "on_execute_callback is set: Airflow runs it on a worker only"
    if sensor.execution_timeout is not None:
        return (
            "execution_timeout is set: started by the scheduler, the deferral's timeout would report it "
            "as a sensor timeout (no retries) rather than AirflowTaskTimeout"
        )
    return None


def task_ends(sensor: Any) -> TaskEnds:
    """The outcomes the trigger may end ``sensor``'s task with, from the task's own options."""
    has = {name: bool(getattr(sensor, name, None)) for name in CALLBACKS}
    no_retries = not sensor.retries
    return TaskEnds(
        succeed=not has["on_success_callback"],
        fail=no_retries and not has["on_failure_callback"] and not (sensor.email and sensor.email_on_failure),
        skip=not has["on_skipped_callback"],
        soft_fail=bool(sensor.soft_fail),
        never_fail=bool(sensor.never_fail),
        xcom=bool(sensor.do_xcom_push),
        cancel_on_timeout=bool(sensor.cancel_on_timeout),
    )


def start_trigger_args(trigger_cls: str, trigger_kwargs: dict[str, Any], timeout: float | None) -> Any:
    """Airflow's StartTriggerArgs: the trigger resumes the task in ``execute_complete`` when it hands back."""
    from airflow.triggers.base import StartTriggerArgs

    return StartTriggerArgs(
        trigger_cls=trigger_cls,
        trigger_kwargs=trigger_kwargs,
        next_method="execute_complete",
        next_kwargs=None,
        timeout=timedelta(seconds=timeout + DEADLINE_MARGIN) if timeout is not None else None,
    )
