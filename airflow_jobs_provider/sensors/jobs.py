"""JobSensor: wait for a job to end; poke, reschedule and deferrable modes give the same outcome."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_jobs_provider.apis.settings import DEFAULT_CONN_ID
from airflow_jobs_provider.apis.states import checked_overrides
from airflow_jobs_provider.exceptions import JobsError
from airflow_jobs_provider.tasks import options
from airflow_jobs_provider.tasks.deadline import EXECUTION_TIMEOUT, execution_timeout_error, watch_deadline
from airflow_jobs_provider.tasks.outcome import error_from_event, raise_for_outcome, read_event
from airflow_jobs_provider.tasks.progress import ProgressLog

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_jobs_provider.hooks.jobs import JobsHook


class JobSensor(BaseSensorOperator):
    """
    Wait until a job SUCCEEDED (its final state, as a dict, is the XCom); fail on FAILED with
    :class:`~airflow_jobs_provider.exceptions.JobFailedError` and on CANCELLED with
    :class:`~airflow_jobs_provider.exceptions.JobCancelledError`. ``soft_fail`` turns those into skips.

    :param job_id: the job to watch (templated), e.g. ``{{ ti.xcom_pull(task_ids='start', key='job_id') }}``
        or ``{{ dag_run.conf['job_id'] }}``.
    :param jobs_conn_id: the ``jobs`` connection.
    :param deferrable: wait in the triggerer; the trigger polls every ``poke_interval`` seconds.
    :param status_overrides: raw state → canonical state, for this task only.
    :param cancel_on_kill: when deferred, cancel the job if a user kills the task (Airflow 3.3+).
    :param cancel_on_timeout: cancel the job when the sensor times out, in every mode. Off by
        default: the job may matter to someone else, and a sensor only watches it.
    """

    template_fields: Sequence[str] = ("job_id", "jobs_conn_id")

    def __init__(
        self,
        *,
        job_id: str,
        jobs_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        status_overrides: Mapping[str, str] | None = None,
        cancel_on_kill: bool = False,
        cancel_on_timeout: bool = False,
        poke_interval: float | timedelta = 30.0,
        **kwargs: Any,
    ) -> None:
        interval = options.seconds(poke_interval, "poke_interval")
        if "timeout" in kwargs:
            options.timeout_after_interval(options.seconds(kwargs["timeout"], "timeout"), interval, "poke_interval")
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.job_id = job_id
        self.jobs_conn_id = jobs_conn_id
        self.deferrable = deferrable
        self.status_overrides = checked_overrides(status_overrides)
        self.cancel_on_kill = cancel_on_kill
        self.cancel_on_timeout = cancel_on_timeout
        self._progress = ProgressLog()

    @cached_property
    def hook(self) -> JobsHook:
        from airflow_jobs_provider.hooks.jobs import JobsHook  # not at DAG parse: it loads the HTTP stack

        return JobsHook(self.jobs_conn_id, status_overrides=self.status_overrides)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        job = self.hook.get_job(self.job_id)
        if line := self._progress.line(job):
            self.log.info(line)
        if not job.status.is_terminal:
            return False
        return PokeReturnValue(is_done=True, xcom_value=raise_for_outcome(job).to_dict())

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            with self._cancel_job_on_timeout():
                return super().execute(context)
        started = time.time()
        try:
            first = self.poke(context)  # a job that already ended needs no trip through the triggerer
        except AirflowFailException as error:
            # The job had already ended badly. After a deferral, resume_execution turns the same
            # error into a skip under soft_fail; that must not depend on whether the job ended
            # before or after the first poke (poke mode treats it the same way).
            if self.soft_fail:
                raise AirflowSkipException("Skipping due to soft_fail is set to True.") from error
            raise
        if isinstance(first, PokeReturnValue):
            return first.xcom_value
        deadline, which = watch_deadline(started + self.timeout, started, self.execution_timeout)
        from airflow_jobs_provider.triggers.jobs import JobStatusTrigger  # not at DAG parse

        self.defer(
            trigger=JobStatusTrigger(
                job_id=self.job_id,
                jobs_conn_id=self.jobs_conn_id,
                poll_interval=self.poke_interval,
                deadline=deadline,
                status_overrides=self.status_overrides,
                cancel_on_kill=self.cancel_on_kill,
                deadline_source=which,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: Any) -> Any:
        kind, job, message = read_event(event)
        if kind == "timeout" and event.get("deadline_source") == EXECUTION_TIMEOUT:
            cancelled = self.cancel_on_timeout and self._cancel("the task's execution_timeout passed")
            what = (
                "the job was cancelled" if cancelled
                else "cancelling the job failed (see the log)" if self.cancel_on_timeout
                else "the job keeps running (cancel_on_timeout=False)"
            )
            raise execution_timeout_error(self.execution_timeout, message, what)
        if kind == "timeout":
            raise AirflowSensorTimeout(f"Sensor has timed out: {message}")
        if kind == "error" or job is None:
            raise error_from_event(event, message)
        return raise_for_outcome(job).to_dict()

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        with self._cancel_job_on_timeout():
            return super().resume_execution(next_method, next_kwargs, context)

    @contextmanager
    def _cancel_job_on_timeout(self) -> Iterator[None]:
        """Cancel the job when the wait timed out, whichever way Airflow reported the timeout.

        A deferred watch times out either in the trigger (its deadline event reaches
        ``execute_complete``) or in the scheduler (the deferral's own timeout resumes the task
        with ``__fail__``); the triggerer never calls ``on_kill`` for a timeout, so the task must
        cancel. Poke and reschedule timeouts come out of ``BaseSensorOperator.execute``.
        """
        try:
            yield
        except (AirflowSensorTimeout, AirflowSkipException) as error:
            if self.cancel_on_timeout and _is_timeout(error):
                self._cancel("the sensor timed out")
            raise

    def _cancel(self, why: str) -> bool:
        """Cancel the job; a failed cancel is logged, not raised (the timeout is the error). True if cancelled."""
        try:
            job = self.hook.cancel_job(self.job_id)
        except JobsError as cancel_error:
            self.log.warning("Could not cancel job %s after %s: %s", self.job_id, why, cancel_error)
            return False
        self.log.info("Cancelled job %s because %s: %s", self.job_id, why, job.describe())
        return True


def _is_timeout(error: BaseException) -> bool:
    """A sensor timeout, or the skip ``soft_fail`` made of one (in poke mode that skip has no cause)."""
    return (
        isinstance(error, AirflowSensorTimeout)
        or isinstance(error.__cause__, AirflowSensorTimeout)
        or str(error).startswith("Sensor has timed out")
    )
