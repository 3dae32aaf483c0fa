"""Turn a finished job, or a trigger event, into the task's result or the right exception.

Shared by the operator and the sensor so that poke, reschedule and deferrable modes agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_jobs_provider import exceptions
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.exceptions import JobCancelledError, JobFailedError, JobsError
from airflow_jobs_provider.tasks.event_kinds import EVENT_KINDS


def raise_for_outcome(job: Job) -> Job:
    """Return a SUCCEEDED job; raise for FAILED/CANCELLED with the API's own error text."""
    if job.status is JobStatus.FAILED:
        raise JobFailedError(f"job {job.job_id} failed: {job.message or '(the API gave no reason)'}" + _where(job))
    if job.status is JobStatus.CANCELLED:
        reason = f": {job.message}" if job.message else ""
        raise JobCancelledError(f"job {job.job_id} was cancelled (raw state {job.raw_status}){reason}" + _where(job))
    if job.status is not JobStatus.SUCCEEDED:
        raise JobsError(f"job {job.job_id} is {job.status.value}, not finished")
    return job


def read_event(event: Any) -> tuple[str, Job | None, str]:
    """Validate a trigger event fail-closed: anything unexpected is an error, never a success."""
    if not isinstance(event, Mapping) or not isinstance(event.get("status"), str) or event["status"] not in EVENT_KINDS:
        raise JobsError(f"unexpected trigger event {str(event)[:200]!r}; the task cannot tell how the job ended")
    kind = str(event["status"])
    try:
        job = Job.from_dict(event["job"]) if isinstance(event.get("job"), Mapping) else None
    except (KeyError, TypeError, ValueError) as exc:
        raise JobsError(
            f"trigger event {kind!r} carries a malformed job ({exc!r}); the task cannot tell how the job ended"
        ) from None
    if kind in ("success", "failed", "cancelled") and job is None:
        raise JobsError(f"trigger event {kind!r} carries no job; the task cannot tell how the job ended")
    if job is not None and kind != "timeout" and kind != "error":
        expected = {"success": JobStatus.SUCCEEDED, "failed": JobStatus.FAILED, "cancelled": JobStatus.CANCELLED}
        if job.status is not expected[kind]:
            raise JobsError(f"trigger event {kind!r} disagrees with job state {job.status.value}")
    return kind, job, str(event.get("message") or "")


def error_from_event(event: Mapping[str, Any], message: str) -> Exception:
    """Rebuild the error the trigger met, as the same class the sync path would raise."""
    name = str(event.get("error_class") or "")
    error_class = getattr(exceptions, name, None)
    if not (isinstance(error_class, type) and issubclass(error_class, Exception)) or name.startswith("_"):
        error_class = JobsError
    return error_class(message or "the trigger reported an error without a message")


def _where(job: Job) -> str:
    return f" ({job.url})" if job.url else ""
