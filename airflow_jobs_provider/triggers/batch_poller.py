"""Shared polls for JobStatusTriggers whose API reads many jobs in one request.

A triggerer watching 1,000 jobs would send 1,000 GETs per poll interval, one per trigger. Here the
triggers of one process that use the same connection, API, status overrides and poll interval
register their job id with one ``BatchPoller``, which reads for all of them once per interval and hands each trigger
its job. Two reads, declared by the API (apis/base.py), whichever it has:

- a **changed-since feed** (``supports_changed_feed``: Airbyte's job list by ``updatedAt``,
  Tinybird's ``jobs_log``, a REST list with ``batch_feed``): one request (plus a page per 100 or
  so changes) shows every job that changed since the previous read. A watched job the feed does
  not show has not changed and keeps its last known state. The feed starts ``feed_overlap``
  seconds before the previous read's time *on the API's clock* (its ``Date`` header, else the
  newest change it showed), so a skew between its clock and ours does not matter, and a change
  stamped late is still seen. A feed read that cannot be trusted (an error, its page cap, a page
  that repeats) is replaced, for that round, by the reads below: nothing ends early, nothing is missed.
- an **id batch** (``supports_batch_get``: Keboola's ``/search/jobs?id[]=…``, Tinybird's ``jobs_log``
  for ended jobs, a REST ``batch_get``): the registered ids in pages of ``api.batch_size``.

Without either, or for what they leave out, a job is read with its own GET.

- A trigger's first look comes quickly and is never the feed's: new ids are read together (id
  batch, else GETs) after ``FIRST_LOOK_DELAY``, not at the next full round, so a job that has
  already ended is reported at once, and every job's state is known before the feed stands for it.
- Rounds run at the watches' interval and read ids in registration order, so a job is read once
  per interval whatever else comes and goes.
- An error of a whole id-batch request (the API is down after retries, a refused token) goes to
  every job of that page; an error that belongs to one job (a state it cannot read) goes to that
  job only; a job an answer leaves out is read with its own GET (which reports a 404 as such).
- A cancelled trigger deregisters; the poller stops, and closes its session, when no one is
  left. The registry is per event loop and keeps nothing else, so a trigger created again (after
  a reassignment, or in a restarted triggerer) registers afresh and never sees an old answer.
- A trigger with a deadline nearer than its next shared read does a GET of its own at the
  deadline, so "poll, then check the deadline" holds exactly as without batching.

``poll_costs()`` (triggers/poll_costs.py) says what the rounds cost: requests per watched job per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from airflow_jobs_provider.apis.base import BatchResult
from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.paging import ListWindow
from airflow_jobs_provider.exceptions import JobOutcomeError, JobsError
from airflow_jobs_provider.hooks import loop_shared
from airflow_jobs_provider.triggers.poll_costs import poll_cost

log = logging.getLogger(__name__)
FIRST_LOOK_DELAY = 0.1
"""Seconds new registrations are gathered before their first (shared) read."""
CONCURRENT_PAGES = 4
"""Requests a poller has in flight at once: a round of 100 pages must not open 100 connections."""
FEED_MAX_PAGES = 50
"""Pages one feed read takes at most (5,000 changes at 100 a page); past that the round reads job by job."""
FEED_PAGES_PER_JOB = 0.1
"""Nor more pages than a tenth of the jobs it stands for: a feed busy with other jobs (an Airbyte
workspace with many connections) costs at most 10% on top of the per-job reads that replace it."""
FEED_MIN_JOBS = 10
"""A feed stands in for the jobs' own reads from this many known jobs on: below it the saving is small, and
a feed shows changes of state only (a GET shows a job's progress too, which the trigger logs)."""
CLOCK_SLACK = 2.0
"""Seconds the API's clock may run ahead of ours between two reads (``Date`` is in whole seconds)."""

FIRST_POLLS = 32
"""First GETs of JobWatches of one connection in flight at once on a loop (a restart adopts thousands at once)."""
FIRST_POLL_HOLD = 1.0
"""Seconds a first GET keeps its slot at most (a retrying one lets the next first look go)."""
FIRST_POLL_SLOTS = "first poll slots"

_EMPTY: Any = object()


class JobWatch:
    """How JobStatusTrigger reads its job: ``poll()`` for the current state, ``wait(s)`` between polls.

    Here a GET per poll and a sleep. After the first of each, both are the hook's and asyncio's own
    coroutines, not wrappers around them: at 10,000 watches a wrapper's frame, alive through every
    wait, is GC work. The first of each is where a restart's burst is smoothed:

    - the first GET waits for one of ``FIRST_POLLS`` slots of the loop: 10,000 triggers adopted at
      once send their first looks a few dozen at a time (on a kept-alive pool of that size), not
      10,000 new connections in one go. A job that has already ended is still reported at its
      first look, after the first looks queued before it (10,000 of them take a second or two);
    - the first wait is cut short to this job's phase of the interval (from its id), never made
      longer: triggers that all started in the same second spread their later polls evenly over
      the interval instead of polling in one burst every interval.
    """

    def __init__(self, hook: Any, job_id: str) -> None:
        self.hook = hook
        self.job_id = job_id
        self.poll: Callable[[], Awaitable[Job]] = self._first_poll
        self.wait: Callable[[float], Awaitable[None]] = self._first_wait

    async def _first_poll(self) -> Job:
        self.poll = functools.partial(self.hook.aget_job, self.job_id)
        slots = loop_shared.shared(FIRST_POLL_SLOTS, self.hook.jobs_conn_id, lambda: asyncio.Semaphore(FIRST_POLLS))
        await slots.acquire()
        held = [True]

        def release() -> None:
            if held[0]:
                held[0] = False
                slots.release()

        # A slow answer (retries, a dead API) gives its slot back after FIRST_POLL_HOLD: it never stalls the rest
        timer = asyncio.get_running_loop().call_later(FIRST_POLL_HOLD, release)
        try:
            job: Job = await self.hook.aget_job(self.job_id)
            return job
        finally:
            timer.cancel()
            release()

    async def _first_wait(self, seconds: float) -> None:
        self.wait = asyncio.sleep
        await asyncio.sleep(phase_wait(self.job_id, seconds, asyncio.get_running_loop().time()))


def phase_wait(job_id: str, seconds: float, now: float) -> float:
    """How long until ``job_id``'s phase of a ``seconds`` cycle comes round: in [0, seconds)."""
    if seconds <= 0:
        return 0.0
    phase = zlib.crc32(job_id.encode()) / 2**32 * seconds
    return (phase - now) % seconds


class _Mailbox:
    """The latest answer for one registration; a newer one replaces an unread one."""

    def __init__(self) -> None:
        self._value: Any = _EMPTY
        self._waiter: asyncio.Future[Any] | None = None

    def put(self, value: Any) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(value)
        else:
            self._value = value

    def has_value(self) -> bool:
        return self._value is not _EMPTY

    async def get(self) -> Any:
        if self._value is not _EMPTY:
            value, self._value = self._value, _EMPTY
            return value
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # answered and timed out at once: keep the answer
                self._value = waiter.result()
            raise
        finally:
            self._waiter = None


class _Registration:
    def __init__(self, job_id: str, interval: float) -> None:
        self.job_id = job_id
        self.interval = interval
        self.mailbox = _Mailbox()


class BatchedWatch(JobWatch):
    """A JobWatch fed by the poller; its own GET only at a deadline that comes before the next round."""

    def __init__(self, hook: Any, registration: _Registration) -> None:
        super().__init__(hook, registration.job_id)
        self._registration = registration
        self._read_directly = False
        self.poll = self._poll
        self.wait = self._wait

    async def _poll(self) -> Job:
        if self._read_directly:
            self._read_directly = False
            job: Job = await self.hook.aget_job(self.job_id)
            return job
        return _unwrap(await self._registration.mailbox.get())

    async def _wait(self, seconds: float) -> None:
        mailbox = self._registration.mailbox
        if seconds >= self._registration.interval or mailbox.has_value():
            return  # the next round's answer is what poll() waits for
        try:  # a deadline comes first: wait for a shared answer until then, else read the job at the deadline
            mailbox.put(await asyncio.wait_for(mailbox.get(), seconds))
        except asyncio.TimeoutError:
            self._read_directly = True


def _unwrap(result: BatchResult | BaseException) -> Job:
    if isinstance(result, BaseException):
        raise result.with_traceback(None)  # one error object may reach many triggers: no shared traceback
    return result


class BatchPoller:
    """Reads every registered job of one (connection, API, overrides) once per interval, in pages."""

    def __init__(self, key: Hashable, conn_id: str, status_overrides: dict[str, str]) -> None:
        self.key = key
        self.conn_id = conn_id
        self.status_overrides = status_overrides
        self.closed = False
        self._jobs: dict[str, set[_Registration]] = {}  # insertion order: the order ids are listed in
        self._fresh: dict[str, None] = {}
        self._known: dict[str, Job] = {}
        """The last state read of each registered job: what a feed that does not show it stands for."""
        self._anchor: float | None = None
        """API time of the last trusted feed read: the next one starts ``feed_overlap`` before it."""
        self._anchor_sent = 0.0
        self._wake = asyncio.Event()
        self.rounds = 0
        self.rounds_done = 0
        """Rounds finished: equal to ``rounds`` between rounds (tests count requests between two such points)."""
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"jobs batch poller {conn_id}")

    # -- registrations
    def register(self, job_id: str, interval: float) -> _Registration:
        registration = _Registration(job_id, interval)
        self._jobs.setdefault(job_id, set()).add(registration)
        self._fresh[job_id] = None
        self._wake.set()
        return registration

    def deregister(self, registration: _Registration) -> None:
        watchers = self._jobs.get(registration.job_id)
        if watchers is not None:
            watchers.discard(registration)
            if not watchers:
                del self._jobs[registration.job_id]
                self._fresh.pop(registration.job_id, None)
                self._known.pop(registration.job_id, None)
        if not self._jobs:
            self._wake.set()  # nobody left: stop now and close the session

    @property
    def job_ids(self) -> list[str]:
        return list(self._jobs)

    # -- the polling task
    async def _run(self) -> None:
        from airflow_jobs_provider.hooks.jobs import JobsHook

        try:
            async with JobsHook(self.conn_id, status_overrides=self.status_overrides) as hook:
                await self._rounds(hook)
        except asyncio.CancelledError:
            self._stop(JobsError(f"the shared poller of connection {self.conn_id!r} was cancelled"))
            raise
        except Exception as error:  # the connection cannot be read, or a bug: every waiting trigger hears it
            self._stop(error)
        else:
            self._stop(None)

    async def _rounds(self, hook: Any) -> None:
        loop = asyncio.get_running_loop()
        next_round = loop.time() + self._interval()
        while self._jobs:
            now = loop.time()
            if now >= next_round:
                self.rounds += 1
                self._fresh.clear()
                await self._round(hook)
                self.rounds_done += 1
                next_round = max(next_round + self._interval(), loop.time())
            elif self._fresh:
                await asyncio.sleep(min(FIRST_LOOK_DELAY, self._interval() / 2))
                fresh = [job_id for job_id in self._fresh if job_id in self._jobs]
                self._fresh.clear()
                await self._take_anchor(hook)  # before the first looks: the feed then covers what follows them
                await self._read(hook, fresh)
            else:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):  # woken by a registration, or the round is due
                    await asyncio.wait_for(self._wake.wait(), next_round - now)
        self._stop(None)

    def _interval(self) -> float:
        return min(
            (registration.interval for watchers in self._jobs.values() for registration in watchers), default=1.0
        )

    async def _round(self, hook: Any) -> None:
        """One interval's read of every registered job: the feed for those it can stand for, else reads."""
        job_ids = self.job_ids
        cost = poll_cost(hook.api.name)
        cost.rounds += 1
        cost.job_rounds += len(job_ids)
        known = sum(job_id in self._known for job_id in job_ids)
        feed = hook.api.supports_changed_feed and known >= FEED_MIN_JOBS
        served = await self._read_feed(hook, job_ids) if feed else set()
        await self._read(hook, [job_id for job_id in job_ids if job_id not in served])

    async def _take_anchor(self, hook: Any) -> None:
        """A feed's first read: one page, for the API's clock only (no job is served from it)."""
        if self._anchor is None and hook.api.supports_changed_feed and len(self._jobs) >= FEED_MIN_JOBS:
            await self._feed_window(hook, None)

    async def _feed_window(self, hook: Any, since: float | None, jobs: int = 0) -> ListWindow | None:
        loop = asyncio.get_running_loop()
        sent = loop.time()
        pages = max(1, min(FEED_MAX_PAGES, int(jobs * FEED_PAGES_PER_JOB)))
        try:
            window: ListWindow = await hook.achanged_since(since, pages)
        except (JobsError, JobOutcomeError) as error:
            log.warning("%s's feed of changed jobs failed (%s): this round reads job by job", hook.api.name, error)
            return None
        poll_cost(hook.api.name).requests += window.pages
        self._move_anchor(window, sent, loop.time())
        return window

    def _move_anchor(self, window: ListWindow, sent: float, received: float) -> None:
        moment = window.server_time if window.server_time is not None else window.newest
        if moment is not None:
            self._anchor = next_anchor(self._anchor, self._anchor_sent, moment, received)
            self._anchor_sent = sent

    async def _read_feed(self, hook: Any, job_ids: list[str]) -> set[str]:
        """Serve the jobs whose state is known from one feed read; the ids served (none if it is not trusted)."""
        if self._anchor is None:
            await self._take_anchor(hook)
            return set()  # the jobs were first read before the API's clock was known: read them again
        known = sum(job_id in self._known for job_id in job_ids)
        window = await self._feed_window(hook, self._anchor - hook.api.feed_overlap, known)
        if window is None:
            return set()
        if not window.complete:
            log.warning(
                "%s's feed of changed jobs is incomplete (%s): this round reads job by job",
                hook.api.name, "; ".join(window.problems) or "?",
            )  # fmt: skip
            return set()
        changed = {job.job_id: job for job in window.jobs}
        served = set()
        for job_id in job_ids:
            job = changed.get(job_id) or self._known.get(job_id)
            if job is not None and job_id in self._known:
                self._deliver([job_id], job)
                served.add(job_id)
        return served

    async def _read(self, hook: Any, job_ids: list[str]) -> None:
        if not job_ids:
            return
        limit = asyncio.Semaphore(CONCURRENT_PAGES)
        if not hook.api.supports_batch_get or len(job_ids) < hook.api.batch_min_jobs:
            singles = await asyncio.gather(*(self._read_one(hook, job_id, limit) for job_id in job_ids))
            for job_id, result in zip(job_ids, singles, strict=True):
                self._deliver([job_id], result)
            return
        size = max(1, int(hook.api.batch_size))
        pages = [job_ids[start : start + size] for start in range(0, len(job_ids), size)]
        await asyncio.gather(*(self._read_page(hook, page, limit) for page in pages))

    async def _read_page(self, hook: Any, page: list[str], limit: asyncio.Semaphore) -> None:
        async with limit:
            try:
                poll_cost(hook.api.name).requests += 1
                results: dict[str, BatchResult | BaseException] = dict(await hook.aget_jobs(page))
            except Exception as error:  # the whole request failed: every job of the page gets the error
                self._deliver(page, error)
                return
        missing = [job_id for job_id in page if job_id not in results]
        if missing:
            log.debug("%d job(s) missing from the batch answer; reading them one by one", len(missing))
            singles = await asyncio.gather(*(self._read_one(hook, job_id, limit) for job_id in missing))
            results.update(zip(missing, singles, strict=True))
        for job_id, result in results.items():
            self._deliver([job_id], result)

    @staticmethod
    async def _read_one(hook: Any, job_id: str, limit: asyncio.Semaphore) -> Job | BaseException:
        async with limit:
            poll_cost(hook.api.name).requests += 1
            try:
                job: Job = await hook.aget_job(job_id)
                return job
            except (JobsError, JobOutcomeError) as error:
                return error

    def _deliver(self, job_ids: Iterable[str], result: Any) -> None:
        for job_id in job_ids:
            watchers = self._jobs.get(job_id, ())
            if watchers and isinstance(result, Job):
                self._known[job_id] = result
            elif watchers:
                self._known.pop(job_id, None)  # an error: the next round reads this job again, not the feed
            for registration in watchers:
                registration.mailbox.put(result)

    def _stop(self, error: BaseException | None) -> None:
        """Leave the registry (a new registration starts a new poller) and fail whoever still waits."""
        self.closed = True
        loop_shared.forget(POLLERS, self.key, self)
        if error is not None:
            self._deliver(self.job_ids, error)


def next_anchor(previous: float | None, previous_sent: float, moment: float | None, received: float) -> float | None:
    """The API time a feed read stands for: ``moment`` (its Date, else the newest change it showed), but
    never further past ``previous`` than our own clock moved from sending that read to receiving this one
    (a proxy's wrong Date must not skip changes). A moment before ``previous`` is taken: safe, only wider."""
    if moment is None:
        return previous
    if previous is None:
        return moment
    return min(moment, previous + (received - previous_sent) + CLOCK_SLACK)


POLLERS = "batch poller"


def running_pollers() -> list[BatchPoller]:
    """The pollers of the running loop (tests check that none outlives its triggers)."""
    return loop_shared.entries_of(POLLERS)


def _poller_for(hook: Any, poll_interval: float) -> BatchPoller:
    """One poller per interval too: a job read alone (few watches, no id batch) is read at its own rate."""
    key = (hook.jobs_conn_id, hook.api.name, tuple(sorted(hook.status_overrides.items())), float(poll_interval))
    return loop_shared.shared(
        POLLERS,
        key,
        lambda: BatchPoller(key, hook.jobs_conn_id, dict(hook.status_overrides)),
        usable=lambda poller: not poller.closed,
    )


@asynccontextmanager
async def watch_job(hook: Any, job_id: str, poll_interval: float) -> AsyncIterator[JobWatch]:
    """How a trigger with an open ``hook`` reads ``job_id``: shared rounds when the API can, else its own GETs."""
    if not (hook.api.supports_batch_get or hook.api.supports_changed_feed):
        yield JobWatch(hook, job_id)
        return
    hook.api.get_request(job_id)  # a bad id fails its own trigger here, never a shared request
    poller = _poller_for(hook, poll_interval)
    registration = poller.register(job_id, poll_interval)
    try:
        yield BatchedWatch(hook, registration)
    finally:
        poller.deregister(registration)
