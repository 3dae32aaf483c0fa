"""One list poll loop per connection and filter: what every event watcher on that list shares.

The loop yields one ``JobList`` per poll. In the triggerer this is the shared stream of all
``JobEventTrigger``s with the same ``shared_stream_key``: one poll per interval, however many
watchers read it. Each watcher applies its own states and cursor to the broadcast list.

A poll reads the list back to where the watchers need it (``Coverage``), page by page, through
the API's window read (``JobsApi.list_window``, apis/paging.py):

- the *top*: everything newer than the previous poll's newest job (less ``LIST_OVERLAP``, for
  jobs an API shows a little late), however many pages that is;
- the *backlog*: when a watcher needs older jobs than the stream has read since it joined (a
  triggerer restart: its cursor's ``seen_until``), the window between, read from the newest down.

Both share one page budget (``MAX_PAGES_PER_POLL``). What a poll could not read, the next one
reads on from where it stopped, so a burst larger than the budget is spread over a few polls
rather than lost, and an API that misbehaves costs at most the budget per interval. Each list
tells the watchers how far it is complete (``covered_since``); a watcher moves its
``seen_until`` on only over lists that cover it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_jobs_provider.apis.base import JobsApi
from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.paging import ListWindow
from airflow_jobs_provider.exceptions import JobsConfigError, JobsUnavailableError

log = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 50
"""List requests one poll sends at most (top and backlog together): 5,000 jobs at 100 a page."""
LIST_OVERLAP = 5.0
"""Seconds each top read reaches back past what the previous poll saw: jobs an API lists a little
late (Keboola's search index), and clocks that tick in whole seconds."""
TIE = 1.0
"""A backlog window ends this far above where the last one stopped: jobs with the same second."""
COVERAGE = "job list coverage"


@dataclass(frozen=True)
class JobList:
    """One poll's answer: the API's name, the jobs that match the filter, and how complete they are.

    :param generation: the coverage generation this list belongs to (``Coverage.join``).
    :param covered_since: every job whose order time is at or after this was in this list or an
        earlier list of the same generation; None when nothing is known (an API that does not page).
    :param resume_at: what a watcher that this list covers may store as its ``seen_until``.
    """

    api: str
    jobs: tuple[Job, ...]
    generation: int = 0
    covered_since: float | None = None
    resume_at: float | None = None


@dataclass
class Coverage:
    """What the watchers of one list need, and how far the list has been read for them. No I/O.

    ``needs`` holds each watcher's ``seen_until``: it has seen every job of the list whose order
    time is at or after it. A watcher that joins starts a new *generation*: the lists of the
    generation before were not all broadcast to it, so what they covered no longer counts for it.
    """

    generation: int = 0
    needs: dict[int, float] = field(default_factory=dict)
    top_since: float | None = None
    """Where the next top read starts (the previous poll's newest order time, less the overlap)."""
    reached: float | None = None
    """How far back this generation's lists are complete, without a gap."""
    _tokens: itertools.count[int] = field(default_factory=itertools.count)

    def join(self, need: float) -> tuple[int, int]:
        """A watcher joins with its ``seen_until``; returns its token and the generation it may trust."""
        token = next(self._tokens)
        self.needs[token] = need
        self.generation += 1
        self.reached = None
        return token, self.generation

    def update(self, token: int, need: float) -> None:
        if token in self.needs:
            self.needs[token] = need

    def leave(self, token: int) -> None:
        self.needs.pop(token, None)

    def restart(self) -> None:
        """A new poll loop: it has read nothing yet (the watchers and their needs stay)."""
        self.top_since = self.reached = None

    def target(self, now: float) -> float:
        """How far back the list must be read: the oldest need (with no watcher: the current top)."""
        if self.needs:
            return min(self.needs.values())
        return self.top_since if self.top_since is not None else now - LIST_OVERLAP

    def top_window(self, now: float) -> float:
        """Where this poll's top read starts; the first reaches back by the overlap too (the baseline)."""
        return self.top_since if self.top_since is not None else self.target(now) - LIST_OVERLAP

    def after_top(self, window: ListWindow, since: float) -> None:
        if window.complete:
            if self.reached is None:
                self.reached = since
        else:  # stopped early: complete only down to where it stopped, the rest is backlog now
            self.reached = window.oldest if window.oldest is not None else math.inf
        newest = max((moment for moment in (window.newest, window.server_time) if moment is not None), default=None)
        if newest is not None:
            candidate = newest - LIST_OVERLAP
            self.top_since = candidate if self.top_since is None else max(self.top_since, candidate)
        elif self.top_since is None:
            self.top_since = since

    def backlog_window(self, now: float) -> tuple[float, float] | None:
        """``(since, until)`` still to read for the oldest need, or None when it is covered."""
        target = self.target(now)
        if self.reached is None or self.reached <= target:
            return None
        return target, (self.reached + TIE if math.isfinite(self.reached) else now)

    def after_backlog(self, window: ListWindow, since: float) -> None:
        if window.complete:
            self.reached = since
        elif window.oldest is not None and self.reached is not None:
            self.reached = min(self.reached, window.oldest)

    def job_list(self, api: str, jobs: tuple[Job, ...]) -> JobList:
        covered = self.reached if self.reached is not None and math.isfinite(self.reached) else None
        return JobList(api, jobs, self.generation, covered, self.top_since)


def shared_coverage(key: Hashable) -> Coverage:
    """The running loop's coverage of one shared stream (its watchers and its poll loop meet there)."""
    from airflow_jobs_provider.hooks.loop_shared import shared

    return shared(COVERAGE, key, Coverage)


def refuse_unlistable(api: JobsApi[Any, Any], conn_id: str) -> None:
    """An API without a job list (Faktory tracks one jid at a time) has nothing to watch."""
    if not api.can_list:
        raise JobsConfigError(
            f"JobEventTrigger cannot watch connection {conn_id!r}: the {api.name} API has no job list to "
            "poll (Faktory answers for one jid at a time). Watch a job you started with JobSensor or "
            "TriggerJobOperator(wait_for_completion=True) instead"
        )


async def poll_job_lists(
    jobs_conn_id: str,
    filters: Mapping[str, Any],
    poll_interval: float,
    status_overrides: Mapping[str, str] | None = None,
    coverage: Coverage | None = None,
) -> AsyncIterator[JobList]:
    """List jobs every ``poll_interval`` seconds, forever, over one HTTP session.

    An API that is still down after the hook's retries skips that poll with a warning: a
    watcher is meant to outlive outages. Wrong filters, a refused token or an unknown state
    raise instead. Retrying cannot fix them, and the error says what to change.
    """
    from airflow_jobs_provider.hooks.jobs import JobsHook

    coverage = coverage if coverage is not None else Coverage()
    async with JobsHook(jobs_conn_id, status_overrides=status_overrides) as hook:
        api = hook.api
        refuse_unlistable(api, jobs_conn_id)
        coverage.restart()
        while True:
            try:
                yield await read_list(hook, dict(filters), coverage, jobs_conn_id)
            except JobsUnavailableError as error:
                log.warning("listing jobs on %s failed, trying again in %gs: %s", jobs_conn_id, poll_interval, error)
            await asyncio.sleep(poll_interval)


async def read_list(hook: Any, filters: dict[str, Any], coverage: Coverage, conn_id: str) -> JobList:
    """One poll: the top, then as much backlog as the page budget leaves (module docstring)."""
    now = time.time()
    since = coverage.top_window(now)
    top = await hook.alist_window(filters, since=since, max_pages=MAX_PAGES_PER_POLL, now=now)
    _log_window(conn_id, "new jobs", top)
    coverage.after_top(top, since)
    jobs: dict[str, Job] = {job.job_id: job for job in top.jobs}
    if not hook.api.windowed:  # the one list is all the API shows: there is no older window to read
        coverage.reached = min(coverage.reached if coverage.reached is not None else since, coverage.target(now))
    backlog = coverage.backlog_window(now)
    budget = MAX_PAGES_PER_POLL - top.pages
    if backlog is not None and budget > 0:
        try:
            older = await hook.alist_window(filters, since=backlog[0], until=backlog[1], max_pages=budget, now=now)
        except JobsUnavailableError as error:  # the top is read: hand it out, the backlog waits
            log.warning("reading older jobs on %s failed, going on at the next poll: %s", conn_id, error)
        else:
            _log_window(conn_id, "older jobs", older)
            coverage.after_backlog(older, backlog[0])
            for job in older.jobs:
                jobs.setdefault(job.job_id, job)
    elif backlog is not None:
        log.warning(
            "new jobs on %s took the whole budget of %d list requests; older jobs are read at the next poll",
            conn_id,
            MAX_PAGES_PER_POLL,
        )
    return coverage.job_list(hook.api.name, tuple(jobs.values()))


def _log_window(conn_id: str, what: str, window: ListWindow) -> None:
    for note in window.notes:
        log.info("listing %s on %s: %s", what, conn_id, note)
    for problem in window.problems:
        log.warning(
            "listing %s on %s: %s; %d jobs read in %d requests, the rest is read at the next poll",
            what,
            conn_id,
            problem,
            len(window.jobs),
            window.pages,
        )
