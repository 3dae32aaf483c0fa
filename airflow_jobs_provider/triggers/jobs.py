"""JobStatusTrigger: watch one job from the triggerer until it ends, then fire one event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.settings import DEFAULT_CONN_ID
from airflow_jobs_provider.exceptions import JobOutcomeError, JobsError
from airflow_jobs_provider.tasks.progress import ProgressLog
from airflow_jobs_provider.triggers.batch_poller import watch_job
from airflow_jobs_provider.triggers.event_kinds import EVENT_FOR_STATUS, EVENT_KINDS  # noqa: F401  (EVENT_KINDS: public here)
from airflow_jobs_provider.triggers.events import JobEventTrigger  # noqa: F401  (public path; see events.py)

CANCEL_TIMEOUT = 30.0


class JobStatusTrigger(BaseTrigger):
    """
    Poll one job until it reaches a terminal state or its deadline passes.

    Kwargs are plain JSON (no token: the connection is resolved in the triggerer). The trigger
    polls before it checks the deadline, so a job that ends at the deadline is reported done.

    :param jobs_conn_id: the ``jobs`` connection.
    :param job_id: the job to watch.
    :param poll_interval: seconds between polls.
    :param deadline: epoch seconds after which the watch ends with a ``timeout`` event.
    :param status_overrides: raw state → canonical state for this task.
    :param cancel_on_kill: cancel the job when a user kills the deferred task (Airflow 3.3+).
    :param deadline_source: which of the task's limits ``deadline`` is (``timeout`` or
        ``execution_timeout``, see deadline.py); the timeout event carries it back to the task.
    """

    def __init__(
        self,
        *,
        job_id: str,
        jobs_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 10.0,
        deadline: float | None = None,
        status_overrides: dict[str, str] | None = None,
        cancel_on_kill: bool = True,
        deadline_source: str | None = None,
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.jobs_conn_id = jobs_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.status_overrides = dict(status_overrides or {})
        self.cancel_on_kill = cancel_on_kill
        self.deadline_source = deadline_source

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_id": self.job_id,
                "jobs_conn_id": self.jobs_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "status_overrides": self.status_overrides,
                "cancel_on_kill": self.cancel_on_kill,
                "deadline_source": self.deadline_source,
            },
        )

    def _hook(self) -> Any:
        from airflow_jobs_provider.hooks.jobs import JobsHook

        return JobsHook(self.jobs_conn_id, status_overrides=self.status_overrides)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        progress = ProgressLog()
        try:
            # watch_job: a GET per poll, or shared polls when the API reads many jobs at once (batch_poller.py)
            async with self._hook() as hook, watch_job(hook, self.job_id, self.poll_interval) as watch:
                while True:
                    job: Job = await watch.poll()
                    if line := progress.line(job):
                        self.log.info(line)
                    if job.status.is_terminal:
                        yield TriggerEvent(job_event(EVENT_FOR_STATUS[job.status], job))
                        return
                    if self.deadline is not None and time.time() >= self.deadline:
                        message = f"job {self.job_id} still {job.status.value} at the deadline"
                        event = {**job_event("timeout", job, message), "deadline_source": self.deadline_source}
                        yield TriggerEvent(event)
                        return
                    del job  # not kept while waiting: ~2 KB a watch at 10,000 watches, and GC work
                    await watch.wait(self._next_sleep())
        except (JobsError, JobOutcomeError) as error:
            yield TriggerEvent(
                {"status": "error", "job_id": self.job_id, "message": str(error), "error_class": type(error).__name__}
            )
            return

    def _next_sleep(self) -> float:
        if self.deadline is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, self.deadline - time.time()))

    async def on_kill(self) -> None:
        """A user marked the deferred task failed/success or cleared it: stop the job too."""
        if not self.cancel_on_kill:
            return
        async with self._hook() as hook:
            job = await asyncio.wait_for(hook.acancel_job(self.job_id), CANCEL_TIMEOUT)
            self.log.info("cancelled job %s on task kill: %s", self.job_id, job.describe())


def job_event(kind: str, job: Job, message: str | None = None) -> dict[str, Any]:
    return {"status": kind, "job_id": job.job_id, "job": job.to_dict(), "message": message or job.message}
