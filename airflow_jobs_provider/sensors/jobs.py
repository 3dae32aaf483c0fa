"""JobSensor waits for one job; JobFinishedSensor for the next job of something to finish after a time.

Poke, reschedule and deferrable modes give the same outcome, and ``soft_fail`` / ``never_fail``
hold on every path of every mode (tasks/soft_fail.py has the rule and the paths Airflow misses).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

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
from airflow_jobs_provider.exceptions import JobsConfigError, JobsError
from airflow_jobs_provider.tasks import options
from airflow_jobs_provider.tasks.deadline import (
    EXECUTION_TIMEOUT,
    OWN_TIMEOUT,
    execution_timeout_error,
    watch_deadline,
)
from airflow_jobs_provider.tasks.event_kinds import START_ON_WORKER
from airflow_jobs_provider.tasks.outcome import error_from_event, raise_for_outcome, read_event
from airflow_jobs_provider.tasks.progress import ProgressLog
from airflow_jobs_provider.tasks.soft_fail import is_deferral_timeout, is_timeout, skip_for
from airflow_jobs_provider.tasks.start_from_trigger import blocker, start_trigger_args, task_ends
from airflow_jobs_provider.tasks.story import JobStory

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.triggers.base import BaseTrigger

    from airflow_jobs_provider.hooks.jobs import JobsHook
    from airflow_jobs_provider.tasks.finished import FinishedJobQuery

ALL_ENDINGS = ("CANCELLED", "FAILED", "SUCCEEDED")
STATUS_TRIGGER = "airflow_jobs_provider.triggers.jobs.JobStatusTrigger"


class _JobWaitSensor(BaseSensorOperator):
    """What both sensors share: the three wait modes, the deadline, and soft_fail / never_fail on every path.

    Subclasses give ``poke`` and ``_trigger``; every error that ends the task, whichever path it
    takes (a poke, the look before deferring, a sleep cut by ``execution_timeout``, the trigger's
    event, the scheduler's deferral timeout), goes through ``_end``.
    """

    def __init__(
        self,
        *,
        jobs_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        status_overrides: Mapping[str, str] | None = None,
        poke_interval: float | timedelta = 30.0,
        **kwargs: Any,
    ) -> None:
        interval = options.seconds(poke_interval, "poke_interval")
        if "timeout" in kwargs:
            options.timeout_after_interval(options.seconds(kwargs["timeout"], "timeout"), interval, "poke_interval")
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.jobs_conn_id = jobs_conn_id
        self.deferrable = deferrable
        self.status_overrides = checked_overrides(status_overrides)
        self._progress = ProgressLog()
        self._timeout_dealt_with = False

    @cached_property
    def hook(self) -> JobsHook:
        from airflow_jobs_provider.hooks.jobs import JobsHook  # not at DAG parse: it loads the HTTP stack

        return JobsHook(self.jobs_conn_id, status_overrides=self.status_overrides)

    def _trigger(self, deadline: float | None, deadline_source: str | None) -> BaseTrigger:
        raise NotImplementedError

    def _on_timeout(self) -> None:
        """The wait timed out, in any mode and whoever noticed: what to do besides failing or skipping."""

    # -- the three modes
    def execute(self, context: Context) -> Any:
        try:
            if not self.deferrable:
                return super().execute(context)  # poke() errors get Airflow's rule there, the rest ours here
            return self._look_then_defer(context)
        except BaseException as error:
            self._end(error)

    def _look_then_defer(self, context: Context) -> Any:
        started = time.time()
        try:
            first = self.poke(context)  # a job that already ended needs no trip through the triggerer
        except Exception as error:
            if not self.silent_fail or isinstance(error, (AirflowFailException, AirflowSkipException)):
                raise
            self.log.error("Sensor poke failed (silent_fail=True, deferring anyway): %s", error)
            first = False
        if isinstance(first, PokeReturnValue):
            return first.xcom_value
        deadline, which = watch_deadline(started + self.timeout, started, self.execution_timeout)
        self.defer(
            trigger=self._trigger(deadline, which),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: Any) -> Any:
        kind, job, message = read_event(event)
        if kind == START_ON_WORKER:  # started in the triggerer, which found that a worker must run it
            self.log.info("Watching on a worker: %s", message)
            return self._look_then_defer(context)
        if kind == "timeout" and event.get("deadline_source") == EXECUTION_TIMEOUT:
            raise execution_timeout_error(self.execution_timeout, message, self._execution_timeout_passed())
        if kind == "timeout":
            raise AirflowSensorTimeout(f"Sensor has timed out: {message}")
        if kind == "error" or job is None:
            raise error_from_event(event, message)
        self._log_found(job)
        return raise_for_outcome(job).to_dict()

    def _execution_timeout_passed(self) -> str:
        """What became of the job when execution_timeout passed while deferred (said in the error)."""
        return "the job keeps running"

    def _log_found(self, job: Any) -> None:
        pass

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """After a deferral: BaseOperator's resume, then this sensor's rule (not BaseSensorOperator's)."""
        try:
            try:
                return super(BaseSensorOperator, self).resume_execution(next_method, next_kwargs, context)
            except Exception as error:
                if is_deferral_timeout(error):  # the scheduler's check of the deferral's own timeout
                    message = f"Sensor has timed out: the deferral's timeout passed ({error})"
                    raise AirflowSensorTimeout(message) from error
                raise
        except BaseException as error:
            self._end(error)

    def _end(self, error: BaseException) -> NoReturn:
        """End the task on ``error``: a skip when soft_fail / never_fail say so, else the error itself."""
        if is_timeout(error) and not self._timeout_dealt_with:
            self._timeout_dealt_with = True
            self._on_timeout()
        skip = skip_for(error, soft_fail=self.soft_fail, never_fail=self.never_fail)
        if skip is not None:
            raise skip from error
        cause = error.__cause__
        if isinstance(error, AirflowSkipException) and cause and not isinstance(cause, AirflowSkipException):
            # Airflow's own skip (poke mode) says only "Skipping due to soft_fail is set to True.": add why
            raise AirflowSkipException(f"{str(error).rstrip('.')}: {type(cause).__name__}: {cause}") from cause
        raise error


class JobSensor(_JobWaitSensor):
    """
    Wait until a job SUCCEEDED (its final state, as a dict, is the XCom); fail on FAILED with
    :class:`~airflow_jobs_provider.exceptions.JobFailedError` and on CANCELLED with
    :class:`~airflow_jobs_provider.exceptions.JobCancelledError`. ``soft_fail`` turns those, and
    timeouts, into skips; ``never_fail`` turns every error into a skip; in every mode and on every path.

    :param job_id: the job to watch (templated), e.g. ``{{ ti.xcom_pull(task_ids='start', key='job_id') }}``
        or ``{{ dag_run.conf['job_id'] }}``.
    :param jobs_conn_id: the ``jobs`` connection.
    :param deferrable: wait in the triggerer; the trigger polls every ``poke_interval`` seconds.
    :param status_overrides: raw state → canonical state, for this task only.
    :param cancel_on_kill: when deferred, cancel the job if a user kills the task (Airflow 3.3+).
    :param cancel_on_timeout: cancel the job when the sensor times out (its ``timeout`` or the task's
        ``execution_timeout``), in every mode. Off by default: the job may matter to someone else,
        and a sensor only watches it.
    :param job_story: log the job's own story (its events, attempts, log entries); False reads none
        (the summary line stays). Connection extra ``job_story: false`` turns it off for every task.
    :param story_interval: seconds between story reads of a running job that shows no change, for
        the APIs whose story costs requests (default: connection extra ``story_interval``, else the
        larger of 5 minutes and 30 ``poke_interval``); 0 reads at every poke. See tasks/story_pace.py.
    :param start_from_trigger: when deferrable, start straight in the triggerer and end there, so
        the watch never takes a worker slot, wherever that gives the same outcome (Airflow 3.3+;
        ``start_from_trigger_blocker`` says why not, docs/operators-and-sensors.md lists the cases).
        False: always start on a worker.
    """

    template_fields: Sequence[str] = ("job_id", "jobs_conn_id")

    def __init__(
        self,
        *,
        job_id: str,
        cancel_on_kill: bool = False,
        cancel_on_timeout: bool = False,
        job_story: bool = True,
        story_interval: float | timedelta | None = None,
        start_from_trigger: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.cancel_on_kill = cancel_on_kill
        self.cancel_on_timeout = cancel_on_timeout
        self.job_story = options.story_switch(job_story)
        self.story_interval = options.story_interval(story_interval)
        self._story: JobStory | None = None
        """This watch's story (poke and deferrable modes); reschedule mode keeps its cursor in the task state store."""
        self.start_from_trigger_blocker = blocker(self, start_from_trigger)
        if self.start_from_trigger_blocker is None:
            self.start_from_trigger = True
            self.start_trigger_args = start_trigger_args(STATUS_TRIGGER, self._start_kwargs(), self.timeout)

    def _start_kwargs(self) -> dict[str, Any]:
        """The trigger's kwargs when the scheduler starts it: templates as written (the triggerer renders them)."""
        return {
            "job_id": self.job_id,
            "jobs_conn_id": self.jobs_conn_id,
            "poll_interval": float(self.poke_interval),
            "deadline": None,  # the deferral's own timeout, which the scheduler sets from start_trigger_args
            "status_overrides": dict(self.status_overrides),
            "cancel_on_kill": self.cancel_on_kill,
            "deadline_source": OWN_TIMEOUT,
            "ends": task_ends(self).to_json(),
        }

    def poke(self, context: Context) -> bool | PokeReturnValue:
        job = self.hook.get_job(self.job_id)
        if line := self._progress.line(job):
            self.log.info(line)
        story = self._job_story(context)
        story.follow(self.hook, job)  # the job's own events and errors (tasks/story.py)
        if not job.status.is_terminal:
            return False
        story.summarize(self.hook, job)
        return PokeReturnValue(is_done=True, xcom_value=raise_for_outcome(job).to_dict())

    def _trigger(self, deadline: float | None, deadline_source: str | None) -> BaseTrigger:
        from airflow_jobs_provider.triggers.jobs import JobStatusTrigger  # not at DAG parse

        return JobStatusTrigger(
            job_id=self.job_id,
            jobs_conn_id=self.jobs_conn_id,
            poll_interval=self.poke_interval,
            deadline=deadline,
            status_overrides=self.status_overrides,
            cancel_on_kill=self.cancel_on_kill,
            deadline_source=deadline_source,
            story_cursor=self._story.cursor if self._story is not None else None,  # where the first look stopped
            job_story=self.job_story,
            story_interval=self.story_interval,
        )

    def _log_found(self, job: Any) -> None:
        """After the trigger's event: the summary line (the trigger logged the story itself)."""
        JobStory(self.log).summarize(self.hook, job)

    def _job_story(self, context: Context) -> JobStory:
        """One story per watch; between reschedule-mode pokes its cursor lives in the task state store."""
        choices: dict[str, Any] = {
            "enabled": self.job_story, "interval": self.story_interval, "poll_interval": self.poke_interval,
        }  # fmt: skip
        if self.reschedule and not self.deferrable:
            self._story = JobStory.between_pokes(self.log, context, **choices)
        elif self._story is None:
            self._story = JobStory(self.log, **choices)
        return self._story

    def _execution_timeout_passed(self) -> str:
        self._timeout_dealt_with = True
        cancelled = self.cancel_on_timeout and self._cancel("the task's execution_timeout passed")
        if cancelled:
            return "the job was cancelled"
        if self.cancel_on_timeout:
            return "cancelling the job failed (see the log)"
        return "the job keeps running (cancel_on_timeout=False)"

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The watched job's inputs, outputs and ``jobsApiJob`` run facet (see docs/lineage.md)."""
        from airflow_jobs_provider.lineage.openlineage import final_job, lineage_for

        job = final_job(self.hook, None, self.job_id)
        return None if job is None else lineage_for(self.hook, job, None)

    def _on_timeout(self) -> None:
        """Cancel the job when the wait timed out, whichever way Airflow reported the timeout.

        A deferred watch times out either in the trigger (its deadline event reaches
        ``execute_complete``) or in the scheduler (the deferral's own timeout resumes the task
        with ``__fail__``); the triggerer never calls ``on_kill`` for a timeout, so the task must
        cancel. Poke and reschedule timeouts come out of ``BaseSensorOperator.execute``, and an
        ``execution_timeout`` in poke mode out of the sleep between two pokes.
        """
        if self.cancel_on_timeout:
            self._cancel("the sensor timed out")

    def _cancel(self, why: str) -> bool:
        """Cancel the job; a failed cancel is logged, not raised (the timeout is the error). True if cancelled."""
        try:
            job = self.hook.cancel_job(self.job_id)
        except JobsError as cancel_error:
            self.log.warning("Could not cancel job %s after %s: %s", self.job_id, why, cancel_error)
            return False
        self.log.info("Cancelled job %s because %s: %s", self.job_id, why, job.describe())
        return True


class JobFinishedSensor(_JobWaitSensor):
    """
    Wait for the next job of something (a pipe, a configuration, a connection) to finish at or
    after ``finished_after``: the cross-team "run when today's copy of pipe X has finished",
    without knowing the job id. The job is the XCom, and the outcomes are JobSensor's: SUCCEEDED
    succeeds, FAILED fails with ``JobFailedError``, CANCELLED with ``JobCancelledError``;
    ``soft_fail`` skips those and timeouts, ``never_fail`` skips on every error.

    The job picked is the one that finished first at or after ``finished_after`` among the
    jobs the list shows that pass ``filters`` and ``match`` and ended in one of ``states``.

    :param finished_after: the time (templated), ISO 8601 or a datetime, e.g. ``{{ data_interval_end }}``.
        A time without an offset is UTC.
    :param filters: the API's own list filters (templated), as ``JobsHook.list_jobs`` takes them.
        Tinybird: ``kind``, ``pipe_name``, ``status``…; Keboola: ``componentId``, ``configId``…;
        Airbyte: ``connectionId``, ``jobType``…; REST: the query parameters of the connection's ``list``.
    :param match: payload fields (dotted paths) and the value, or list of values, each must have
        (templated); checked by the sensor on the list it reads, for what the API cannot filter.
    :param states: the terminal states that count as "finished" (default all three). With
        ``states=["SUCCEEDED"]`` a failed run is passed over and the sensor waits for a good one.
    :param jobs_conn_id: the ``jobs`` connection; any API with a job list (Faktory has none).
    :param deferrable: wait in the triggerer; the trigger lists jobs every ``poke_interval`` seconds.
    :param status_overrides: raw state → canonical state, for this task only.
    """

    template_fields: Sequence[str] = ("finished_after", "filters", "match", "jobs_conn_id")
    template_fields_renderers = {"filters": "json", "match": "json"}

    def __init__(
        self,
        *,
        finished_after: str | datetime,
        filters: Mapping[str, Any] | None = None,
        match: Mapping[str, Any] | None = None,
        states: Sequence[str] | str = ALL_ENDINGS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(finished_after, (str, datetime)):
            raise JobsConfigError(
                f"finished_after must be a time (ISO 8601 string, template or datetime), e.g. "
                f"'{{{{ data_interval_end }}}}', got {finished_after!r}"
            )
        for name, value in (("filters", filters), ("match", match)):
            if value is not None and not isinstance(value, Mapping):
                raise JobsConfigError(f"{name} must be a dict of field names to values, got {value!r}")
        self.finished_after = finished_after
        self.filters = dict(filters or {})
        self.match = dict(match or {})
        self.states = _checked_states(states)

    @cached_property
    def query(self) -> FinishedJobQuery:
        """The rendered values, checked: built at the first look, after templating."""
        from airflow_jobs_provider.tasks.finished import FinishedJobQuery

        query = FinishedJobQuery.checked(self.filters, self.match, self.finished_after, self.states)
        self.log.info("Waiting for %s", query.describe())
        return query

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_jobs_provider.tasks.finished import look

        query = self.query
        seen = len(query.untimed)
        job = look(self.hook, query)
        if len(query.untimed) > seen:
            self._warn_untimed(query)
        if job is None:
            return False
        self._log_found(job)
        return PokeReturnValue(is_done=True, xcom_value=raise_for_outcome(job).to_dict())

    def _trigger(self, deadline: float | None, deadline_source: str | None) -> BaseTrigger:
        from airflow_jobs_provider.triggers.jobs import JobFinishedTrigger  # not at DAG parse

        query = self.query
        return JobFinishedTrigger(
            jobs_conn_id=self.jobs_conn_id,
            filters=dict(query.filters),
            match=dict(query.match),
            finished_after=query.finished_after,
            states=list(query.states),
            poll_interval=self.poke_interval,
            deadline=deadline,
            deadline_source=deadline_source,
            status_overrides=self.status_overrides,
        )

    def _execution_timeout_passed(self) -> str:
        return "no matching job had finished"

    def _log_found(self, job: Any) -> None:
        self.log.info("Found job %s: %s (%s)", job.job_id, job.describe(), job.url or "no URL")

    def _warn_untimed(self, query: FinishedJobQuery) -> None:
        self.log.warning(
            "Jobs %s match but their answers carry no time, so they cannot count as finished after %s",
            sorted(query.untimed)[:10],
            self.finished_after,
        )


def _checked_states(states: Sequence[str] | str) -> tuple[str, ...]:
    from airflow_jobs_provider.apis.job import JobStatus

    values = [states] if isinstance(states, str) else list(states)
    parsed = set()
    for value in values:
        try:
            status = JobStatus.parse(value)
        except ValueError as error:
            raise JobsConfigError(f"states: {error}") from None
        if not status.is_terminal:
            raise JobsConfigError(
                f"states: {status.value} is not a state a job finishes in; use SUCCEEDED, FAILED or CANCELLED"
            )
        parsed.add(status.value)
    if not parsed:
        raise JobsConfigError("states is empty: give at least one of SUCCEEDED, FAILED, CANCELLED")
    return tuple(sorted(parsed))
