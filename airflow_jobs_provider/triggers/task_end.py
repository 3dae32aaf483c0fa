"""The trigger's side of a sensor started by the scheduler: end the task in the triggerer, or hand back.

The rules (which outcome ends where) are tasks/start_from_trigger.py's; this module turns an
event JobStatusTrigger would fire into Airflow's task-ending event, the same outcome the worker
would reach from it (tasks/outcome.py, tasks/soft_fail.py), or None to let a worker decide.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow_jobs_provider.tasks.start_from_trigger import TaskEnds

RETURN_VALUE = "return_value"
DEFAULT_XCOM_BACKEND = "airflow.sdk.execution_time.xcom.BaseXCom"


def worker_needed(task: Any) -> str | None:
    """What only a worker can do for this task, found at run time in the triggerer (None: nothing)."""
    from airflow.providers.common.compat.sdk import conf

    backend = conf.get("core", "xcom_backend", fallback=DEFAULT_XCOM_BACKEND)
    if backend not in (DEFAULT_XCOM_BACKEND, "airflow.models.xcom.BaseXCom"):
        return f"the XCom backend {backend} stores values from a worker"
    if task is not None and _emits_lineage(task):
        return "OpenLineage events for this task are emitted from a worker"
    return None


def _emits_lineage(task: Any) -> bool:
    try:
        from airflow.providers.openlineage import conf as ol_conf
        from airflow.providers.openlineage.utils.selective_enable import is_dag_lineage_enabled, is_task_lineage_enabled
    except ImportError:
        return False
    if ol_conf.is_disabled():
        return False
    if not ol_conf.selective_enable():
        return True
    dag = getattr(task, "dag", None)
    return bool(is_task_lineage_enabled(task) or (dag is not None and is_dag_lineage_enabled(dag)))


def end_event(event: dict[str, Any], ends: TaskEnds, log: logging.Logger | Any, task_instance: Any) -> Any | None:
    """Airflow's task-ending event for ``event``, or None when a worker must take it (``execute_complete``)."""
    from airflow.triggers.base import TaskFailedEvent, TaskSkippedEvent, TaskSuccessEvent

    kind = event.get("status")
    if kind == "success":
        if not ends.succeed or (ends.xcom and task_instance is None):
            return None
        if ends.xcom:
            push_result(task_instance, event["job"])
        log.info("Task succeeded in the triggerer: job %s %s", event.get("job_id"), event["job"].get("status"))
        return TaskSuccessEvent()
    if kind in ("failed", "cancelled"):
        error = "JobFailedError" if kind == "failed" else "JobCancelledError"
        flag = "soft_fail" if ends.soft_fail else "never_fail" if ends.never_fail else None
    elif kind == "timeout" and event.get("deadline_source") != "execution_timeout" and not ends.cancel_on_timeout:
        error = "AirflowSensorTimeout"
        flag = "soft_fail" if ends.soft_fail else "never_fail" if ends.never_fail else None
    elif kind == "error" and ends.never_fail:
        error, flag = str(event.get("error_class") or "JobsError"), "never_fail"
    else:
        return None
    message = _message(kind, event)
    if flag is not None:
        if not ends.skip:
            return None
        log.info("Skipping due to %s is set to True: %s: %s", flag, error, message)
        return TaskSkippedEvent()
    if not ends.fail:
        return None
    log.error("Task failed in the triggerer: %s: %s", error, message)
    return TaskFailedEvent()


def push_result(task_instance: Any, value: Any) -> None:
    """Push the job as the task's return value, the way a worker pushes what ``execute_complete`` returns.

    Not the event's own ``xcoms``: Airflow 3.3.2 stores those as a JSON string (``XComModel.set``
    serializes a value the execution API stores as is), so a downstream ``xcom_pull`` would get
    text instead of the dict. Not ``task_instance.xcom_push`` either: the triggerer's task is the
    scheduler's serialized operator, which lacks ``returns_dag_result`` (False for a sensor).
    """
    from airflow.providers.common.compat.sdk import XCom

    XCom.set(
        key=RETURN_VALUE,
        value=value,
        dag_id=task_instance.dag_id,
        task_id=task_instance.task_id,
        run_id=task_instance.run_id,
        map_index=task_instance.map_index,
    )


def _message(kind: str, event: dict[str, Any]) -> str:
    """The message the worker's exception would carry (tasks/outcome.py says the same)."""
    from airflow_jobs_provider.apis.job import Job
    from airflow_jobs_provider.exceptions import JobOutcomeError, JobsError
    from airflow_jobs_provider.tasks.outcome import raise_for_outcome

    if kind in ("failed", "cancelled"):
        try:
            raise_for_outcome(Job.from_dict(event["job"]))
        except (JobOutcomeError, JobsError) as error:  # the outcome's own error: JobFailedError, JobCancelledError
            return str(error)
    if kind == "timeout":
        return f"Sensor has timed out: {event.get('message') or ''}"
    return str(event.get("message") or "")
