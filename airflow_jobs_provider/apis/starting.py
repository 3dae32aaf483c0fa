"""Starting a job without ever starting two: uncertain starts resolved, running jobs joined.

Sans-I/O like the rest of ``apis/``: ``start`` is a generator that yields what the API adapter
wants sent (Requests, Faktory Commands), plus two instructions for the driver, ``Pause`` (wait
before the next look) and ``Note`` (a line for the task log). ``run_plan`` / ``arun_plan`` drive it
with a transport; an error the transport raises (``JobStartUncertainError`` above all) is thrown
into the generator, so the plan can answer it.

**Uncertain starts.** A start that failed after it may have reached the API (a timeout, a reset,
a 500/502/504 after sending) is looked for with the API's own filters and the creation window:
jobs of the same target created since just before the start was sent, widened by the tolerated
clock skew (the API's clock is not ours). The API is given ``settle_seconds`` to show the job,
looked at ``polls`` times:

- exactly one candidate: that is the job; the log says how it was found;
- several: ``JobStartUncertainError`` listing them (which one is ours cannot be told);
- none after the settle time: the API never saw the start, so it is sent again, once. A second
  uncertain answer is looked for the same way and never sent a third time.

**Running jobs** (``if_running``): ``start`` starts whatever runs; ``join`` watches the newest job of
the same target that has not ended instead of starting one; ``fail`` raises
``JobAlreadyRunningError``; ``cancel`` cancels the running ones, then starts.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airflow_jobs_provider.apis.base import JobsApi
from airflow_jobs_provider.apis.job import Job, check_if_running
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import (
    JobAlreadyRunningError,
    JobsConfigError,
    JobsError,
    JobStartUncertainError,
)

T = TypeVar("T")
DEFAULT_SETTLE_SECONDS = 10.0
DEFAULT_POLLS = 3
DEFAULT_CLOCK_SKEW = 60.0
MAX_POLLS = 20
MAX_LISTED = 5
"""At most this many candidates are named in an error (the count is always given)."""


@dataclass(frozen=True)
class Pause:
    """Wait this long before the plan's next message."""

    seconds: float


@dataclass(frozen=True)
class Note:
    """A line for the task log; the driver logs it and goes on."""

    text: str


@dataclass(frozen=True)
class StartOptions:
    """How an uncertain start is resolved; connection extras ``uncertain_start_settle_seconds``,
    ``uncertain_start_polls`` and ``clock_skew_seconds`` set them."""

    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    polls: int = DEFAULT_POLLS
    clock_skew: float = DEFAULT_CLOCK_SKEW
    resolve_uncertain: bool = True

    @classmethod
    def from_settings(cls, settings: ApiSettings, *, resolve_uncertain: bool = True) -> StartOptions:
        extras, conn_id = settings.extras, settings.conn_id
        return cls(
            settle_seconds=_seconds(extras, "uncertain_start_settle_seconds", DEFAULT_SETTLE_SECONDS, conn_id),
            polls=_polls(extras.get("uncertain_start_polls", DEFAULT_POLLS), conn_id),
            clock_skew=_seconds(extras, "clock_skew_seconds", DEFAULT_CLOCK_SKEW, conn_id),
            resolve_uncertain=resolve_uncertain,
        )


@dataclass
class StartOutcome:
    """The job a start ends with, and how: ``started``, ``found`` (an uncertain start's job was found),
    ``resent`` (the API never saw the first start; the second one worked) or ``joined``."""

    job: Job
    how: str
    uncertain: int = 0
    """How many start requests of this start ended uncertain (0, 1 or 2)."""
    cancelled: list[str] = field(default_factory=list)
    """Jobs cancelled first (``if_running='cancel'``)."""


Plan = Generator[Any, Any, StartOutcome]


def start(
    api: JobsApi[Any, Any],
    spec: Mapping[str, Any],
    *,
    clock: Callable[[], float],
    options: StartOptions,
    if_running: str = "start",
) -> Plan:
    """Start ``spec`` (or join what runs), resolving an uncertain start; see the module docstring."""
    if_running = check_if_running(if_running)
    if if_running == "cancel" and not api.can_cancel:
        raise JobsConfigError(
            f"{api.name} cannot cancel a job, so if_running='cancel' cannot make room for a new one: use "
            "if_running='join' to watch the running job, or 'fail'"
        )
    cancelled: list[str] = []
    if if_running != "start":  # the spec as given: a jid the provider would choose names no running job
        joined = yield from _before_start(api, spec, if_running, cancelled)
        if joined is not None:
            return joined
    pinned = api.pin_start(spec, clock())
    since = clock() - options.clock_skew
    try:
        job = yield from api.start_job(pinned)
    except JobStartUncertainError as error:
        return (yield from _resolve(api, pinned, since, error, options, cancelled))
    except JobsError as error:
        if if_running == "start" or not api.is_start_conflict(error):
            raise
        return (yield from _after_conflict(api, pinned, if_running, error, cancelled))
    return StartOutcome(job, "started", cancelled=cancelled)


def _before_start(
    api: JobsApi[Any, Any], spec: Mapping[str, Any], if_running: str, cancelled: list[str]
) -> Generator[Any, Any, StartOutcome | None]:
    running = yield from api.find_running(spec)
    if not running:
        yield Note(f"No {api.name} job of this target is running; starting one (if_running={if_running!r})")
        return None
    names = _names(running)
    if if_running == "fail":
        raise JobAlreadyRunningError(
            f"{api.name} already runs {len(running)} job(s) of this target ({names}) and if_running='fail': "
            "wait for it to end, or set if_running='join' to watch it, or 'cancel' to replace it"
        )
    if if_running == "join":
        joinable = [job for job in running if api.joinable(spec, job)]
        if joinable:
            job = joinable[0]
            others = f"; also running: {_names(joinable[1:])}" if len(joinable) > 1 else ""
            yield Note(f"Joined {api.name} job {job.job_id} ({job.describe()}), already running{others}")
            return StartOutcome(job, "joined")
        yield Note(f"The running {api.name} job(s) ({names}) cannot stand for this start (being cancelled, or "
                   "another kind of job); starting one")
        return None
    for job in running:  # cancel
        stopped = yield from api.cancel_job(job.job_id)
        cancelled.append(job.job_id)
        yield Note(f"Cancelled running {api.name} job {job.job_id} before starting a new one: {stopped.describe()}")
    return None


def _after_conflict(
    api: JobsApi[Any, Any], spec: Mapping[str, Any], if_running: str, error: JobsError, cancelled: list[str]
) -> Plan:
    """The API refused the start because a job of the target runs (it started since we looked)."""
    yield Note(f"{api.name} refused the start because a job of this target is running ({error}); looking again")
    joined = yield from _before_start(api, spec, if_running, cancelled)
    if joined is not None:
        return joined
    job = yield from api.start_job(spec)  # once: a second refusal is the error
    return StartOutcome(job, "started", cancelled=cancelled)


def _resolve(
    api: JobsApi[Any, Any],
    spec: Mapping[str, Any],
    since: float,
    error: JobStartUncertainError,
    options: StartOptions,
    cancelled: list[str],
) -> Plan:
    problem = api.lookup_problem(spec)
    if not options.resolve_uncertain or problem is not None:
        if problem is not None:
            raise JobStartUncertainError(f"{error}. It cannot be looked for: {problem}") from None
        raise error
    yield Note(f"{_head(error)}: looking for the job it may have created ({_window(options)})")
    found = yield from _settle(api, spec, since, error, options)
    if len(found) == 1:
        job = found[0]
        yield Note(f"Found {api.name} job {job.job_id} ({job.describe()}) created by the uncertain start: the only "
                   f"job of this target created since it was sent ({_window(options)}); carrying on with it")
        return StartOutcome(job, "found", uncertain=1, cancelled=cancelled)
    if found:
        raise _ambiguous(api, error, found)
    yield Note(f"No {api.name} job of this target appeared within {options.settle_seconds:g}s "
               f"({options.polls} looks): the API never saw the start; sending it again, once")
    try:
        job = yield from api.start_job(spec)
    except JobStartUncertainError as again:
        yield Note(f"The second start was uncertain too ({_head(again)}); looking again")
        found = yield from _settle(api, spec, since, again, options)
        if len(found) == 1:
            yield Note(f"Found {api.name} job {found[0].job_id} ({found[0].describe()}) created by the second start")
            return StartOutcome(found[0], "found", uncertain=2, cancelled=cancelled)
        if found:
            raise _ambiguous(api, again, found) from None
        raise JobStartUncertainError(
            f"{again}; it was the second start of this job (the first one never showed up) and no job appeared "
            f"within {options.settle_seconds:g}s. Not sent a third time: check the API for the job, then clear "
            "the task if there is none"
        ) from None
    except JobsError as refused:
        if not api.is_start_conflict(refused):
            raise
        # A conflict on the resend means a job of the target runs: the first start's, shown late.
        yield Note(f"{api.name} refused the second start because a job of this target runs; looking again")
        found = yield from _settle(api, spec, since, error, options)
        if len(found) == 1:
            yield Note(f"Found {api.name} job {found[0].job_id} ({found[0].describe()}) created by the first start")
            return StartOutcome(found[0], "found", uncertain=1, cancelled=cancelled)
        raise _ambiguous(api, error, found) if found else refused from None
    yield Note(f"Started {api.name} job {job.job_id} with the second start")
    return StartOutcome(job, "resent", uncertain=1, cancelled=cancelled)


def _settle(
    api: JobsApi[Any, Any], spec: Mapping[str, Any], since: float, error: JobStartUncertainError, options: StartOptions
) -> Generator[Any, Any, list[Job]]:
    """Look ``polls`` times, the last one ``settle_seconds`` after the failure; stop at the first look
    that shows a job (one look only: at ``settle_seconds``)."""
    polls, settle = options.polls, options.settle_seconds
    moments = [settle] if polls == 1 else [settle * look / (polls - 1) for look in range(polls)]
    waited = 0.0
    for moment in moments:
        if moment > waited:
            yield Pause(moment - waited)
            waited = moment
        try:
            found = yield from api.find_started(spec, since)
        except JobsError as failure:
            raise JobStartUncertainError(
                f"{error}; looking for the job it may have created failed too ({failure})"
            ) from None
        if found:
            return found
    return []


def _ambiguous(api: JobsApi[Any, Any], error: JobStartUncertainError, found: list[Job]) -> JobStartUncertainError:
    return JobStartUncertainError(
        f"{error}; {len(found)} {api.name} jobs of this target were created since it was sent ({_names(found)}), "
        "so which one it started cannot be told. Not sent again: check these jobs, then clear the task if none "
        "is the one you want"
    )


def _head(error: JobStartUncertainError) -> str:
    """What failed and why, without the advice the error goes on with."""
    text = str(error)
    return text.split(" after the server may have received it", 1)[0] + " after the server may have received it"


def _names(jobs: list[Job]) -> str:
    shown = ", ".join(f"{job.job_id} {job.status.value}" for job in jobs[:MAX_LISTED])
    return shown + (f" and {len(jobs) - MAX_LISTED} more" if len(jobs) > MAX_LISTED else "")


def _window(options: StartOptions) -> str:
    return f"{options.clock_skew:g}s of clock skew allowed"


# -- drivers
def run_plan(plan: Generator[Any, Any, T], send: Callable[[Any], Any], sleep: Callable[[float], None],
             note: Callable[[str], None]) -> T:
    """Drive a plan with a blocking transport: errors of ``send`` are thrown into the plan."""
    try:
        message = next(plan)
        while True:
            if isinstance(message, Pause):
                sleep(message.seconds)
                message = plan.send(None)
            elif isinstance(message, Note):
                note(message.text)
                message = plan.send(None)
            else:
                try:
                    reply = send(message)
                except JobsError as error:
                    message = plan.throw(error)
                else:
                    message = plan.send(reply)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def arun_plan(plan: Generator[Any, Any, T], send: Callable[[Any], Awaitable[Any]],
                    sleep: Callable[[float], Awaitable[None]], note: Callable[[str], None]) -> T:
    """The async twin of ``run_plan``, for the triggerer's loop."""
    try:
        message = next(plan)
        while True:
            if isinstance(message, Pause):
                await sleep(message.seconds)
                message = plan.send(None)
            elif isinstance(message, Note):
                note(message.text)
                message = plan.send(None)
            else:
                try:
                    reply = await send(message)
                except JobsError as error:
                    message = plan.throw(error)
                else:
                    message = plan.send(reply)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _seconds(extras: Mapping[str, Any], name: str, default: float, conn_id: str) -> float:
    value = extras.get(name, default)
    try:
        number = -1.0 if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not math.isfinite(number) or number < 0 or number > 24 * 3600:
        raise JobsConfigError(f"connection {conn_id!r}: extra {name!r} must be a number of seconds from 0 to 86400, "
                              f"got {value!r}")
    return number


def _polls(value: Any, conn_id: str) -> int:
    whole = str(value).isdigit() if isinstance(value, str) else isinstance(value, int) and not isinstance(value, bool)
    if not whole or not 1 <= int(value) <= MAX_POLLS:
        raise JobsConfigError(f"connection {conn_id!r}: extra 'uncertain_start_polls' must be a whole number from 1 "
                              f"to {MAX_POLLS}, got {value!r}")
    return int(value)
