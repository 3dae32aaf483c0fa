"""The provider's triggers: JobStatusTrigger watches one job, JobFinishedTrigger waits for the next
job of something to finish after a time, JobEventTrigger fires once per finished job.

All are defined here because the triggerer imports a trigger by the classpath stored with it
(``airflow_jobs_provider.triggers.jobs.<class>``): moving either would orphan stored trigger rows.
The work behind them lives beside this module: batch_poller.py, job_lists.py, cursor*.py, events.py,
and tasks/finished.py (what JobFinishedSensor looks for, shared with its poke).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.settings import DEFAULT_CONN_ID
from airflow_jobs_provider.apis.states import checked_overrides
from airflow_jobs_provider.exceptions import JobOutcomeError, JobsConfigError, JobsError
from airflow_jobs_provider.tasks.event_kinds import EVENT_FOR_STATUS
from airflow_jobs_provider.tasks.options import optional_seconds, seconds
from airflow_jobs_provider.tasks.progress import ProgressLog
from airflow_jobs_provider.tasks.start_from_trigger import DEADLINE_MARGIN, START_ON_WORKER, TaskEnds
from airflow_jobs_provider.tasks.story import JobStory
from airflow_jobs_provider.triggers import events
from airflow_jobs_provider.triggers.batch_poller import watch_job
from airflow_jobs_provider.triggers.cursor import JobCursor
from airflow_jobs_provider.triggers.cursor_store import CursorStore
from airflow_jobs_provider.triggers.events import DEFAULT_POLL_INTERVAL, DEFAULT_STATES, STREAM, canonical
from airflow_jobs_provider.triggers.job_lists import Coverage, JobList, poll_job_lists, shared_coverage
from airflow_jobs_provider.triggers.rendering import triggerer_context
from airflow_jobs_provider.triggers.task_end import end_event, worker_needed
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_0_PLUS

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

if AIRFLOW_V_3_0_PLUS:
    from airflow.triggers.base import BaseEventTrigger
else:  # Airflow 2.11 has no event-driven scheduling; JobEventTrigger still imports
    BaseEventTrigger = BaseTrigger  # type: ignore[misc,assignment]

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
        ``execution_timeout``, see tasks/deadline.py); the timeout event carries it back to the task.
    :param story_cursor: where the task's own reading of the job's story stopped (tasks/story.py),
        so that the trigger logs only what is new.
    :param job_story: read the job's story at all (the task's ``job_story``).
    :param story_interval: seconds between story reads of a running job that shows no change
        (tasks/story_pace.py); None: the connection's extra, else the default.
    :param ends: set when the scheduler started the task here (``start_from_trigger``, Airflow 3.3+):
        the outcomes this trigger ends the task with itself (tasks/start_from_trigger.py); the
        deadline is then the task's deferral timeout, and any other outcome resumes a worker.
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
        story_cursor: dict[str, Any] | None = None,
        job_story: bool = True,
        story_interval: float | None = None,
        ends: dict[str, bool] | None = None,
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.jobs_conn_id = jobs_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.status_overrides = dict(status_overrides or {})
        self.cancel_on_kill = cancel_on_kill
        self.deadline_source = deadline_source
        self.story_cursor = dict(story_cursor or {})
        self.job_story = job_story
        self.story_interval = story_interval
        self.ends = ends

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {
            "job_id": self.job_id,
            "jobs_conn_id": self.jobs_conn_id,
            "poll_interval": self.poll_interval,
            "deadline": self.deadline,
            "status_overrides": self.status_overrides,
            "cancel_on_kill": self.cancel_on_kill,
            "deadline_source": self.deadline_source,
        }
        # only when set: the kwargs of a trigger that uses none stay as they were in 0.1
        if self.story_cursor:
            kwargs["story_cursor"] = self.story_cursor
        if not self.job_story:
            kwargs["job_story"] = False
        if self.story_interval is not None:
            kwargs["story_interval"] = self.story_interval
        if self.ends is not None:  # only a trigger the scheduler started has it: older rows stay the same
            kwargs["ends"] = self.ends
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Render in the triggerer (start_from_trigger) with XCom reads it answers (triggers/rendering.py)."""
        super().render_template_fields(cast("Context", triggerer_context(context)), jinja_env)

    def _hook(self) -> Any:
        from airflow_jobs_provider.hooks.jobs import JobsHook

        return JobsHook(self.jobs_conn_id, status_overrides=self.status_overrides)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        ends = TaskEnds.from_json(self.ends)
        if ends is None:
            async for event in self._watch():
                yield event
            return
        if why := worker_needed(getattr(self, "task", None)):
            self.log.info("Starting job %s's watch on a worker: %s", self.job_id, why)
            yield TriggerEvent({"status": START_ON_WORKER, "job_id": self.job_id, "message": why})
            return
        timeout_after = getattr(self, "timeout_after", None)  # the task's deferral timeout, set by the triggerer
        if self.deadline is None and timeout_after is not None:
            self.deadline = timeout_after.timestamp() - DEADLINE_MARGIN
        async for event in self._watch():
            ending = end_event(event.payload, ends, self.log, self.task_instance)
            if ending is not None:  # no worker comes after this: the summary line is the trigger's to log
                await self._summarize(event.payload)
            yield ending or event
            return

    async def _summarize(self, payload: Mapping[str, Any]) -> None:
        job = payload.get("job")
        if not isinstance(job, dict) or payload.get("status") not in ("success", "failed", "cancelled"):
            return
        try:
            async with self._hook() as hook:
                await JobStory(self.log).asummarize(hook, Job.from_dict(job))
        except (JobsError, JobOutcomeError, ValueError, KeyError) as error:  # a summary never changes the outcome
            self.log.warning("No summary line for job %s: %s", self.job_id, error)

    async def _watch(self) -> AsyncIterator[TriggerEvent]:
        progress = ProgressLog()
        story = JobStory(
            self.log, self.story_cursor, enabled=self.job_story, interval=self.story_interval,
            poll_interval=self.poll_interval,
        )  # fmt: skip
        try:
            # watch_job: a GET per poll, or shared polls when the API reads many jobs at once (batch_poller.py)
            async with self._hook() as hook, watch_job(hook, self.job_id, self.poll_interval) as watch:
                while True:
                    job: Job = await watch.poll()
                    if line := progress.line(job):
                        self.log.info(line)
                    await story.afollow(hook, job)  # the job's own events and errors (tasks/story.py)
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


def stream_key(kwargs: Mapping[str, Any]) -> Hashable:
    """One shared stream per connection, list filter, interval and state overrides (serialized kwargs)."""
    filters, overrides = canonical(kwargs["filters"]), canonical(kwargs["status_overrides"])
    return (STREAM, kwargs["jobs_conn_id"], filters, kwargs["poll_interval"], overrides)


def covers(job_list: JobList, generation: int, need: float) -> bool:
    """The list (with the earlier ones of its generation) holds every job a watcher needing ``need`` has not seen."""
    return job_list.generation >= generation and job_list.covered_since is not None and job_list.covered_since <= need


def job_event(kind: str, job: Job, message: str | None = None) -> dict[str, Any]:
    return {"status": kind, "job_id": job.job_id, "job": job.to_dict(), "message": message or job.message}


class JobFinishedTrigger(BaseTrigger):
    """
    List jobs until one that matches finished at or after ``finished_after``: JobFinishedSensor's
    deferred wait. It fires one event, as JobStatusTrigger does (``success``, ``failed``,
    ``cancelled`` with the job; ``timeout`` at the deadline; ``error`` with the error's class).

    Kwargs are plain JSON (no token: the connection is resolved in the triggerer). Which job
    counts is decided by ``tasks.finished.FinishedJobQuery``, the same code as the sensor's poke.

    :param jobs_conn_id: the ``jobs`` connection (any API with a job list; Faktory has none).
    :param filters: the API's own list filters.
    :param match: payload fields (dotted paths) and the value, or list of values, each must have.
    :param finished_after: epoch seconds.
    :param states: the terminal states that count as finished.
    :param poll_interval: seconds between list requests.
    :param deadline: epoch seconds after which the wait ends with a ``timeout`` event.
    :param deadline_source: which of the task's limits ``deadline`` is (see tasks/deadline.py).
    :param status_overrides: raw state → canonical state for this task.
    """

    def __init__(
        self,
        *,
        finished_after: float,
        jobs_conn_id: str = DEFAULT_CONN_ID,
        filters: Mapping[str, Any] | None = None,
        match: Mapping[str, Any] | None = None,
        states: Sequence[str] = ("CANCELLED", "FAILED", "SUCCEEDED"),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        deadline: float | None = None,
        deadline_source: str | None = None,
        status_overrides: Mapping[str, str] | None = None,
    ) -> None:
        from airflow_jobs_provider.tasks.finished import FinishedJobQuery

        super().__init__()
        self.jobs_conn_id = jobs_conn_id
        if isinstance(finished_after, bool) or not isinstance(finished_after, (int, float)):
            raise JobsConfigError(f"finished_after must be epoch seconds, got {finished_after!r}")
        self.query = FinishedJobQuery.checked(filters, match, float(finished_after), states)
        self.poll_interval = seconds(poll_interval, "poll_interval")
        self.deadline = deadline
        self.deadline_source = deadline_source
        self.status_overrides = checked_overrides(status_overrides)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "jobs_conn_id": self.jobs_conn_id,
                "filters": dict(self.query.filters),
                "match": dict(self.query.match),
                "finished_after": self.query.finished_after,
                "states": list(self.query.states),
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "deadline_source": self.deadline_source,
                "status_overrides": self.status_overrides,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_jobs_provider.hooks.jobs import JobsHook
        from airflow_jobs_provider.tasks.finished import alook

        try:
            async with JobsHook(self.jobs_conn_id, status_overrides=self.status_overrides) as hook:
                while True:
                    job = await alook(hook, self.query)
                    if job is not None:
                        self.log.info("job %s finished: %s", job.job_id, job.describe())
                        yield TriggerEvent(job_event(EVENT_FOR_STATUS[job.status], job))
                        return
                    if self.deadline is not None and time.time() >= self.deadline:
                        message = f"no {self.query.describe()} by the deadline"
                        event = {"status": "timeout", "job_id": None, "message": message}
                        yield TriggerEvent({**event, "deadline_source": self.deadline_source})
                        return
                    await asyncio.sleep(self._next_sleep())
        except (JobsError, JobOutcomeError) as error:
            error_class = type(error).__name__
            yield TriggerEvent({"status": "error", "job_id": None, "message": str(error), "error_class": error_class})
            return

    def _next_sleep(self) -> float:
        if self.deadline is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, self.deadline - time.time()))


class JobEventTrigger(BaseEventTrigger):
    """
    Fire one event per job that finishes in one of ``states``: event-driven DAGs on external jobs.
    Use it in ``Asset(..., watchers=[AssetWatcher(name, JobEventTrigger(...))])``. Every DAG
    scheduled on that asset then runs when a matching job finishes. The event's payload is the
    asset event's ``extra["payload"]``, and it carries the job as ``Job.to_dict()``.

    How each job is reported once:

    - The first poll is a baseline. Jobs that have already finished are marked as handled without
      firing, unless ``lookback_seconds`` asks for the ones that finished within that window.
    - From then on, a job fires the first time a poll shows it finished in one of ``states``. The
      cursor (``cursor.JobCursor``) remembers it, so the next polls skip it.
    - The cursor is kept in the asset state store, which Airflow 3.3+ injects. A new trigger
      instance, after a triggerer restart, continues where the last one stopped. Jobs that
      finished while no triggerer ran are reported then, and none is reported twice.
    - A report is written to the store only ``commit_delay`` seconds after the triggerer took its
      event. By then the triggerer has handed the event to its supervisor, which stores it. If the
      triggerer dies before that, the event may be lost, and the job is reported again by the next
      instance (a duplicate, never a gap).

    Watchers with the same connection, list filter, poll interval and state overrides share one
    list request per interval through the triggerer's shared streams (Airflow 3.3+). They may
    differ in ``match``, ``states`` and ``lookback_seconds``, which each applies on its own. On older
    Airflow each watcher polls on its own, through ``run``.

    Kwargs are plain JSON with no token in them. The connection is resolved in the triggerer.

    :param jobs_conn_id: the ``jobs`` connection (any API with a job list; Faktory has none).
    :param filters: the API's own list filters, as ``JobsHook.list_jobs`` takes them. Tinybird:
        ``kind``, ``pipe_name``, ``status``…; Keboola: ``componentId``, ``configId``, ``status``…;
        Airbyte: ``connectionId``, ``jobType``, ``status``…; REST: the query parameters of the
        connection's ``list`` endpoint.
    :param match: payload fields (dotted paths) and the value, or list of values, each must have.
        The watcher checks them itself, on the list it reads. So watchers that differ only in
        ``match`` (one per pipe, say) share one list request: ``filters={"kind": "copy"}``,
        ``match={"pipe_name": "X"}``.
    :param states: canonical terminal states that fire (``SUCCEEDED``, ``FAILED``, ``CANCELLED``).
    :param poll_interval: seconds between list polls.
    :param lookback_seconds: on the watcher's very first start, also report jobs that finished
        this many seconds before it. By default, jobs that had already finished are never reported.
    :param status_overrides: raw state → canonical state, as for the operator and sensor.
    """

    commit_delay = 2.0
    """Seconds between the triggerer taking an event and the report being written to the store.

    The triggerer passes the events it has taken to its supervisor about once a second.
    """

    def __init__(
        self,
        *,
        jobs_conn_id: str = DEFAULT_CONN_ID,
        filters: Mapping[str, Any] | None = None,
        match: Mapping[str, Any] | None = None,
        states: Sequence[str] | str = DEFAULT_STATES,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        lookback_seconds: float | None = None,
        status_overrides: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(jobs_conn_id, str) or not jobs_conn_id:
            raise JobsConfigError(f"jobs_conn_id must name a connection, got {jobs_conn_id!r}")
        self.jobs_conn_id = jobs_conn_id
        self.filters = events.plain_json(filters, "filters")
        self.match = events.plain_json(match, "match")
        self.states = events.terminal_states(states)
        self.poll_interval = seconds(poll_interval, "poll_interval")
        self.lookback_seconds = optional_seconds(lookback_seconds, "lookback_seconds")
        self.status_overrides = checked_overrides(status_overrides)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "jobs_conn_id": self.jobs_conn_id,
                "filters": self.filters,
                "match": self.match,
                "states": sorted(status.value for status in self.states),  # stable: the trigger's hash
                "poll_interval": self.poll_interval,
                "lookback_seconds": self.lookback_seconds,
                "status_overrides": self.status_overrides,
            },
        )

    # -- shared streams (Airflow 3.3+): one list poll per connection, filter and interval
    def shared_stream_key(self) -> Hashable | None:
        """Watchers that would send the very same list request at the same cadence share it."""
        return stream_key(self.serialize()[1])

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """The one poll loop of a group; it reads only kwargs that are part of the key."""
        async for job_list in cls._poll(kwargs, shared_coverage(stream_key(kwargs))):
            yield job_list

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        """This watcher's own events: its states and its cursor, applied to each broadcast list."""
        async for event in self._filter(shared_stream, shared_coverage(stream_key(self.serialize()[1]))):
            yield event

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Standalone: the same filter over a poll loop of this watcher's own (before Airflow 3.3)."""
        coverage = Coverage()
        async for event in self._filter(type(self)._poll(self.serialize()[1], coverage), coverage):
            yield event

    @staticmethod
    def _poll(kwargs: dict[str, Any], coverage: Coverage) -> AsyncIterator[JobList]:
        return poll_job_lists(
            kwargs["jobs_conn_id"], kwargs["filters"], kwargs["poll_interval"], kwargs["status_overrides"], coverage
        )

    async def _filter(self, shared_stream: AsyncIterator[Any], coverage: Coverage) -> AsyncIterator[TriggerEvent]:
        store = CursorStore(getattr(self, "asset_state_store", None), self.cursor_key(), self.log)
        cursor = await store.load() or JobCursor.start(time.time(), self.lookback_seconds)
        token, generation = coverage.join(cursor.need())  # the list is read back to what this watcher needs
        handed: dict[str, float] = {}  # reported job id -> when the triggerer took its event (monotonic)
        try:
            async for job_list in shared_stream:
                fresh = cursor.select([job for job in job_list.jobs if self.matches(job)], self.states)
                if covers(job_list, generation, cursor.need()) and job_list.resume_at is not None:
                    cursor.saw_until(job_list.resume_at)
                    coverage.update(token, cursor.need())
                now = time.monotonic()
                handed = {job_id: at for job_id, at in handed.items() if now - at < self.commit_delay}
                await store.save(cursor.to_json(exclude=[*handed, *(job.job_id for job in fresh)]))
                for job in fresh:
                    self.log.info("job %s finished: %s", job.job_id, job.describe())
                    yield TriggerEvent(self.event_payload(job_list, job))
                    handed[job.job_id] = time.monotonic()  # resumed: the triggerer has queued the event
        finally:
            coverage.leave(token)

    # -- helpers
    def cursor_key(self) -> str:
        """The state store key: what decides which jobs fire, not the cadence or the look-back."""
        identity = canonical(
            {
                "conn": self.jobs_conn_id,
                "filters": self.filters,
                "match": self.match,
                "states": sorted(status.value for status in self.states),
                "overrides": self.status_overrides,
            }
        )
        return f"job_event_cursor.{hashlib.sha256(identity.encode()).hexdigest()[:20]}"

    def matches(self, job: Job) -> bool:
        return events.matches(self.match, job)

    def event_payload(self, job_list: JobList, job: Job) -> dict[str, Any]:
        return {
            "job_id": job.job_id,
            "status": job.status.value,
            "api": job_list.api,
            "jobs_conn_id": self.jobs_conn_id,
            "job": job.to_dict(),
        }
