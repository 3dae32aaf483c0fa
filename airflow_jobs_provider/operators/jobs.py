"""TriggerJobOperator: start a job, report it on every path, optionally wait for it to end."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator, BaseOperatorLink, XCom, conf

from airflow_jobs_provider.apis.job import Job, JobStatus, check_if_running
from airflow_jobs_provider.apis.settings import DEFAULT_CONN_ID
from airflow_jobs_provider.apis.states import checked_overrides
from airflow_jobs_provider.exceptions import JobNotFoundError, JobsConfigError, JobsError
from airflow_jobs_provider.tasks import options
from airflow_jobs_provider.tasks.deadline import EXECUTION_TIMEOUT, execution_timeout_error, watch_deadline
from airflow_jobs_provider.tasks.outcome import error_from_event, raise_for_outcome, read_event
from airflow_jobs_provider.tasks.progress import ProgressLog
from airflow_jobs_provider.tasks.story import JobStory

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_jobs_provider.hooks.jobs import JobsHook

JOB_ID_KEY = "job_id"
JOB_URL_KEY = "job_url"  # the job's page in the vendor's UI; the API resource is "job_api_url" (tasks/links.py)
STATE_STORE_KEY = "jobs_provider.job_id"
RESUMABLE = frozenset({JobStatus.PENDING, JobStatus.RUNNING, JobStatus.SUCCEEDED})


class JobLink(BaseOperatorLink):
    """The "Job" button: opens the job's page in the vendor's UI (the ``job_url`` XCom); no page, no button."""

    name = "Job"

    @property
    def xcom_key(self) -> str:
        return JOB_URL_KEY  # Airflow 3 reads the link straight from this XCom

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return XCom.get_value(key=JOB_URL_KEY, ti_key=ti_key) or ""


class TriggerJobOperator(BaseOperator):
    """
    Start a job on a jobs API and return its id; XCom keys ``job_id`` and ``job_url`` are pushed
    on every path, deferral included.

    :param job: the body the API's start endpoint takes, in the API's own field names (templated).
        Tinybird picks the endpoint with ``kind``: copy, import, populate or sink.
    :param jobs_conn_id: the ``jobs`` connection.
    :param wait_for_completion: wait for the job to end; fail the task unless it SUCCEEDED.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param poll_interval: seconds between status polls while waiting.
    :param timeout: give up waiting after this long (the job is cancelled if ``cancel_on_kill``).
    :param status_overrides: raw state → canonical state, for this task only.
    :param cancel_on_kill: cancel the started job when the task is killed or times out.
    :param if_running: what to do when a job of the same target (Tinybird pipe, Keboola configuration,
        Airbyte connection, REST ``start_match``, Faktory jid) is already running: ``start`` another
        (the default), ``join`` it (watch it instead; it becomes the ``job_id`` XCom), ``fail``, or
        ``cancel`` it and then start.
    :param reuse_started_job: on a retry, reconnect to the job an earlier try started if it is
        still pending, running or succeeded (Airflow 3.3 task state store) instead of starting another.
        Before 3.3 there is no task state store: every try, a retry too, starts a new job.
    :param job_story: while waiting, log the job's own story (its events, attempts, log entries);
        False reads none (the summary line stays). Connection extra ``job_story: false`` turns it off too.
    :param story_interval: seconds between story reads of a running job that shows no change, for
        the APIs whose story costs requests (default: connection extra ``story_interval``, else the
        larger of 5 minutes and 30 ``poll_interval``); 0 reads at every poll. See tasks/story_pace.py.
    """

    template_fields: Sequence[str] = ("job", "jobs_conn_id")
    template_fields_renderers = {"job": "json"}
    operator_extra_links = (JobLink(),)

    def __init__(
        self,
        *,
        job: Mapping[str, Any],
        jobs_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float | timedelta = 10.0,
        timeout: float | timedelta | None = None,
        status_overrides: Mapping[str, str] | None = None,
        cancel_on_kill: bool = True,
        reuse_started_job: bool = True,
        if_running: str = "start",
        job_story: bool = True,
        story_interval: float | timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.jobs_conn_id = jobs_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = options.seconds(poll_interval, "poll_interval")
        self.timeout = options.optional_seconds(timeout, "timeout")
        options.timeout_after_interval(self.timeout, self.poll_interval, "poll_interval")
        self.status_overrides = checked_overrides(status_overrides)
        self.cancel_on_kill = cancel_on_kill
        self.reuse_started_job = reuse_started_job
        self.if_running = check_if_running(if_running)
        self.job_story = options.story_switch(job_story)
        self.story_interval = options.story_interval(story_interval)
        self.started_job_id: str | None = None

    @cached_property
    def hook(self) -> JobsHook:
        from airflow_jobs_provider.hooks.jobs import JobsHook  # not at DAG parse: it loads the HTTP stack

        return JobsHook(self.jobs_conn_id, status_overrides=self.status_overrides)

    def execute(self, context: Context) -> str:
        started = time.time()  # where Airflow's execution_timeout clock starts too
        if not isinstance(self.job, Mapping):
            raise JobsConfigError(
                f"job must render to a dict (the start endpoint's body in the API's field names, e.g. "
                f"{{'kind': 'copy', 'pipe': 'daily'}} for Tinybird), got {self.job!r}"
            )
        job = self._reconnect(context) or self._start(context)
        if not self.wait_for_completion:
            return job.job_id
        if job.status.is_terminal:
            return self._wait(job)
        if self.deferrable:
            from airflow_jobs_provider.triggers.jobs import JobStatusTrigger  # not at DAG parse

            own = time.time() + self.timeout if self.timeout else None
            deadline, which = watch_deadline(own, started, self.execution_timeout)
            self.defer(
                trigger=JobStatusTrigger(
                    job_id=job.job_id,
                    jobs_conn_id=self.jobs_conn_id,
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                    status_overrides=self.status_overrides,
                    cancel_on_kill=self.cancel_on_kill,
                    deadline_source=which,
                    job_story=self.job_story,
                    story_interval=self.story_interval,
                ),
                method_name="execute_complete",
            )
        return self._wait(job)

    def _start(self, context: Context) -> Job:
        outcome = self.hook.start(self.job, if_running=self.if_running)
        job = outcome.job
        self._report(context, job)
        if outcome.how == "joined":
            self.log.info("Joined job %s, which was already running (if_running='join'): %s", job.job_id,
                          job.url or "(no URL)")
        elif outcome.how == "found":
            self.log.info("Started job %s (its start was uncertain; found by listing): %s", job.job_id,
                          job.url or "(no URL)")
        else:
            self.log.info("Started job %s: %s", job.job_id, job.url or "(no URL)")
        store = context.get("task_state_store")
        if store is not None and self.reuse_started_job:
            store.set(STATE_STORE_KEY, job.job_id)
        return job

    def _reconnect(self, context: Context) -> Job | None:
        """Find the job an earlier try of this task started, if it can still count."""
        store = context.get("task_state_store") if self.reuse_started_job else None
        try_number = getattr(context.get("ti"), "try_number", None)
        if store is None and self.reuse_started_job and isinstance(try_number, int) and try_number > 1:
            self.log.warning(
                "This retry starts a new job: without a task state store (Airflow 3.3+) it cannot find the job"
                " of an earlier try, which may still be running"
            )
        earlier = store.get(STATE_STORE_KEY) if store is not None else None
        if not earlier:
            return None
        try:
            job = self.hook.get_job(str(earlier))
        except JobNotFoundError:
            self.log.warning("Job %s of an earlier try is gone; starting a new one", earlier)
            return None
        if job.status not in RESUMABLE:
            self.log.warning("Job %s of an earlier try ended %s; starting a new one", earlier, job.describe())
            return None
        self.log.info("Reconnecting to job %s started by an earlier try (%s)", job.job_id, job.describe())
        self._report(context, job)
        return job

    def _report(self, context: Context, job: Job) -> None:
        from airflow_jobs_provider.tasks.links import push_job_xcoms  # not at DAG parse

        self.started_job_id = job.job_id
        self._lineage_job = job
        push_job_xcoms(context["ti"], self.hook, job, self.log)

    def _wait(self, job: Job) -> str:
        progress = ProgressLog()
        story = JobStory(
            self.log, enabled=self.job_story, interval=self.story_interval, poll_interval=self.poll_interval
        )
        give_up_at = time.monotonic() + self.timeout if self.timeout else None
        while True:
            if line := progress.line(job):
                self.log.info(line)
            story.follow(self.hook, job)  # the job's own events and errors (tasks/story.py)
            if job.status.is_terminal:
                story.summarize(self.hook, job)
                return raise_for_outcome(job).job_id
            if give_up_at is not None and time.monotonic() >= give_up_at:
                self._cancel_quietly(job.job_id, "the wait timed out")
                raise JobsError(f"job {job.job_id} did not finish within {self.timeout:g}s ({job.describe()})")
            time.sleep(self.poll_interval)
            job = self.hook.get_job(job.job_id)

    def execute_complete(self, context: Context, event: Any) -> str:
        kind, job, message = read_event(event)
        if job is not None:
            self._report(context, job)
        if kind == "error":
            raise error_from_event(event, message)
        if kind == "timeout":
            job_id = job.job_id if job else str(event.get("job_id"))
            if event.get("deadline_source") == EXECUTION_TIMEOUT:
                cancelled = self._cancel_quietly(job_id, "the task's execution_timeout passed")
                self.started_job_id = None  # dealt with: on_kill, which Airflow calls on a timeout, has nothing to do
                what = (
                    "the job was cancelled" if cancelled
                    else "cancelling the job failed (see the log)" if self.cancel_on_kill
                    else "the job was left running (cancel_on_kill=False)"
                )
                raise execution_timeout_error(self.execution_timeout, message, what)
            self._cancel_quietly(job_id, "the wait timed out")
            raise JobsError(f"{message}; waited {self.timeout:g}s")
        assert job is not None  # read_event guarantees a job for the other kinds
        JobStory(self.log).summarize(self.hook, job)  # the trigger logged the story itself
        return raise_for_outcome(job).job_id

    def get_openlineage_facets_on_start(self) -> Any:
        """The datasets the start spec names (the OpenLineage provider calls this; see docs/lineage.md)."""
        from airflow_jobs_provider.lineage.openlineage import on_start

        return on_start(self.hook, self.job if isinstance(self.job, Mapping) else {})

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The job's inputs, outputs and ``jobsApiJob`` run facet, once the task has ended."""
        from airflow_jobs_provider.lineage.openlineage import final_job, lineage_for

        known = getattr(self, "_lineage_job", None)
        job_id = None if known else task_instance.xcom_pull(task_ids=self.task_id, key=JOB_ID_KEY)
        job = final_job(self.hook, known, job_id)
        if job is None:
            return None
        return lineage_for(self.hook, job, self.job if isinstance(self.job, Mapping) else None)

    def on_kill(self) -> None:
        if self.started_job_id:
            self._cancel_quietly(self.started_job_id, "the task was killed")

    def _cancel_quietly(self, job_id: str, why: str) -> bool:
        """Cancel unless ``cancel_on_kill`` is off; a failed cancel is logged, not raised. True if cancelled."""
        if not self.cancel_on_kill:
            self.log.info("Leaving job %s running (%s; cancel_on_kill=False)", job_id, why)
            return False
        try:
            job = self.hook.cancel_job(job_id)
            self.log.info("Cancelled job %s because %s: %s", job_id, why, job.describe())
            return True
        except JobsError as error:
            self.log.warning("Could not cancel job %s after %s: %s", job_id, why, error)
            return False
