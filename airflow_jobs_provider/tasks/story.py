"""Log the job's own story (apis/story.py) as it unfolds, each line once, and its summary line.

One ``JobStory`` follows one watch: the operator's wait, the sensor's pokes, the trigger's polls.
Its cursor is plain JSON. It travels from the worker to the trigger (a kwarg), and a
reschedule-mode sensor keeps it in the task state store (Airflow 3.3+) between pokes. Without a
store, a reschedule-mode sensor reads the story once, when the job has ended, so that no line
shows twice. A story that costs requests is paced (tasks/story_pace.py): read at the first look,
when the job changes state, at the end, and otherwise once per story interval, so that batched
polling stays well under a request per job per interval. A story that cannot be read is a
warning, once, never the task's failure: the job's outcome is what counts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.exceptions import JobsError
from airflow_jobs_provider.tasks.story_pace import PACE_KEY, StoryPace, story_interval

if TYPE_CHECKING:
    from airflow_jobs_provider.apis.story import StoryPage
    from airflow_jobs_provider.hooks.jobs import JobsHook

CURSOR_KEY = "jobs_provider.story_cursor"
"""The task state store key of a reschedule-mode sensor's cursor."""


class JobStory:
    """
    :param log: the task's (or the trigger's) logger.
    :param cursor: where an earlier watch stopped (with its pace, tasks/story_pace.py).
    :param enabled: the task's ``job_story``; False reads no story (the summary line stays: it costs nothing).
    :param interval: the task's ``story_interval`` (None: the connection's, else the default).
    :param poll_interval: the watch's seconds between polls, for the default story interval.
    """

    def __init__(
        self, log: logging.Logger | Any, cursor: Mapping[str, Any] | None = None, *, store: Any = None,
        only_at_end: bool = False, enabled: bool = True, interval: float | None = None,
        poll_interval: float = 10.0, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.log = log
        self.cursor: dict[str, Any] = dict(cursor) if isinstance(cursor, Mapping) else {}
        self.store = store
        self.only_at_end = only_at_end
        self.interval = interval
        self.poll_interval = poll_interval
        self.clock = clock
        self.pace = StoryPace.from_cursor(self.cursor)
        self._off = not enabled
        self._extra_read = False

    @classmethod
    def between_pokes(cls, log: logging.Logger | Any, context: Mapping[str, Any], **options: Any) -> JobStory:
        """A reschedule-mode poke's story: its cursor in the task state store, else read once at the end."""
        store = context.get("task_state_store")
        if store is None:
            return cls(log, only_at_end=True, **options)
        kept = store.get(CURSOR_KEY)
        return cls(log, kept if isinstance(kept, Mapping) else None, store=store, **options)

    def follow(self, hook: JobsHook, job: Job) -> None:
        """Read and log what is new in the job's story (worker side)."""
        if self._wanted(hook, job):
            try:
                self._log(job, hook.story(job, self._api_cursor()))
            except JobsError as error:
                self._give_up(error)
                return
            if self.store is not None:
                self.store.set(CURSOR_KEY, self.cursor)

    async def afollow(self, hook: JobsHook, job: Job) -> None:
        """The same in the triggerer."""
        if self._wanted(hook, job):
            try:
                self._log(job, await hook.astory(job, self._api_cursor()))
            except JobsError as error:
                self._give_up(error)

    def summarize(self, hook: JobsHook, job: Job) -> None:
        """The summary line of a finished job: state, duration, queue time, rows and bytes, and the
        page to open: the job's page in the vendor's UI (the "Job" button's), else its API resource."""
        from airflow_jobs_provider.apis.story import summary_line  # not at DAG parse
        from airflow_jobs_provider.tasks.links import read_links

        try:
            links = read_links(hook, job, self.log)
            line = summary_line(job, hook.api.summary(job), links.page or links.api)
        except Exception as error:  # the job's outcome is known: a summary that cannot be made never changes it
            self.log.warning("No summary line for job %s: %s: %s", job.job_id, type(error).__name__, error)
            return
        self.log.info(line)

    async def asummarize(self, hook: JobsHook, job: Job) -> None:
        """The same in the triggerer, for a task that ends there (start_from_trigger)."""
        from airflow_jobs_provider.apis.story import summary_line  # not at DAG parse
        from airflow_jobs_provider.tasks.links import aread_links

        try:
            links = await aread_links(hook, job, self.log)
            line = summary_line(job, hook.api.summary(job), links.page or links.api)
        except Exception as error:  # as in summarize()
            self.log.warning("No summary line for job %s: %s: %s", job.job_id, type(error).__name__, error)
            return
        self.log.info(line)

    def _wanted(self, hook: JobsHook, job: Job) -> bool:
        """Read now? Not when turned off; a costly story only when its pace says so (tasks/story_pace.py)."""
        from airflow_jobs_provider.apis.story import story_enabled, story_interval_extra  # not at DAG parse

        if not self._off and not self._extra_read:  # the connection's switch, once a watch: not on every poll
            self._extra_read = True
            self._off = not story_enabled(hook.api.settings)
        if self._off or (self.only_at_end and not job.status.is_terminal):
            return False
        if not hook.api.story_costs_requests:
            return True
        interval = story_interval(self.interval, story_interval_extra(hook.api.settings), self.poll_interval)
        return self.pace.due(job, self.clock(), interval)

    def _api_cursor(self) -> dict[str, Any]:
        return {key: value for key, value in self.cursor.items() if key != PACE_KEY}

    def _log(self, job: Job, page: StoryPage) -> None:
        for line in page.lines:
            self.log.info("%s", line)
        self.cursor = {**page.cursor, PACE_KEY: self.pace.read(job, self.clock())}

    def _give_up(self, error: JobsError) -> None:
        self._off = True
        self.log.warning("Could not read the job's own story; it is not logged for the rest of this watch: %s", error)
