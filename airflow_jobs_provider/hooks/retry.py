"""One retry policy for the sync hook and the async trigger.

Retried: 5xx, 429 (honouring Retry-After), connection errors and timeouts, bounded both in
attempts and in total time: no retry starts once its wait would end past ``max_seconds``, so
one request takes at most ``max_seconds`` plus one attempt's timeout. A request that starts a
job is retried only when the server certainly never saw it (connection refused, 429, 503), so a
retry never starts a second job.

Every transport (HTTP sync and async, Faktory sync and async) keeps only "send once"; the loop
here, ``send`` and ``asend``, retries any message that can describe itself and says whether it
may be replayed, and builds the one final error. Each retry is logged with a ``jobs_retry``
record attribute (a RetryEvent), so monitoring and the soak test can count attempts and check
waits without parsing messages.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random,
)

from airflow_jobs_provider.apis.exchange import header
from airflow_jobs_provider.exceptions import JobStartUncertainError, JobsUnavailableError

ReplyT = TypeVar("ReplyT")

REJECTED_UNSEEN = frozenset({429, 503})
log = logging.getLogger(__name__)


class Message(Protocol):
    """What the loop needs of anything a transport sends: an HTTP Request, a Faktory Command."""

    @property
    def replayable(self) -> bool:
        """False for a message that starts a job: resent only when the server certainly never saw it."""

    @property
    def uncertain_advice(self) -> str:
        """How the final error goes on after "... after the server may have received it" for a start."""

    @property
    def unavailable_advice(self) -> str:
        """What the final error advises when the other side kept failing."""

    def describe(self) -> str:
        """The message for the retry log, without secrets."""

    def describe_at(self, where: str) -> str:
        """The message and its destination, for the final error."""
MAX_RETRY_AFTER = 300.0


class TransientError(Exception):
    """A failure worth retrying; ``reached_server`` says whether the request may have been acted on."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, reached_server: bool = True, hint: str | None = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.reached_server = reached_server
        self.hint = hint
        """What to do when retrying did not help, if the cause suggests more than "try again later"."""


def transient_status(status: int, headers: Mapping[str, str]) -> TransientError | None:
    """The TransientError for a retryable HTTP status, or None when the answer is final."""
    if status != 429 and status < 500:
        return None
    return TransientError(
        f"HTTP {status}",
        retry_after=parse_retry_after(header(headers, "Retry-After")),
        reached_server=status not in REJECTED_UNSEEN,
    )


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):  # Python >= 3.10 raises instead of returning None
            return None
        seconds = parsed.timestamp() - time.time()
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


@dataclass(frozen=True)
class RetryEvent:
    """One retry about to happen: what failed, which attempt it was, and how long the wait is."""

    message: str
    """What was sent (``Message.describe()``)."""
    attempt: int
    max_attempts: int
    reason: str
    retry_after: float | None
    wait: float
    elapsed: float
    """Seconds since the first attempt of this request started."""


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and for how long a transient failure is retried.

    The defaults suit production; the connection extras ``retry_attempts``, ``retry_max_seconds``,
    ``retry_initial_wait`` and ``retry_max_wait`` change them per connection (apis/settings.py).
    """

    max_attempts: int = 5
    max_seconds: float = 120.0
    initial_wait: float = 0.5
    max_wait: float = 30.0

    def _settings(self, message: Message, log: logging.Logger | None) -> dict[str, Any]:
        backoff = wait_exponential(multiplier=self.initial_wait, max=self.max_wait) + wait_random(0, self.initial_wait)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, TransientError) and error.retry_after is not None:
                return error.retry_after
            return float(backoff(state))

        def retryable(error: BaseException) -> bool:
            return isinstance(error, TransientError) and (message.replayable or not error.reached_server)

        def announce(state: RetryCallState) -> None:
            if log is not None and state.outcome is not None and state.next_action is not None:
                error = state.outcome.exception()
                event = RetryEvent(
                    message=message.describe(),
                    attempt=state.attempt_number,
                    max_attempts=self.max_attempts,
                    reason=str(error),
                    retry_after=error.retry_after if isinstance(error, TransientError) else None,
                    wait=state.next_action.sleep,
                    elapsed=state.seconds_since_start or 0.0,
                )
                log.warning(
                    "%s failed (%s), attempt %d of %d; retrying in %.1fs",
                    event.message, error, state.attempt_number,
                    self.max_attempts, state.next_action.sleep, extra={"jobs_retry": event},
                )

        return {
            "retry": retry_if_exception(retryable),
            "stop": stop_after_attempt(self.max_attempts) | stop_before_delay(self.max_seconds),
            "wait": wait,
            "before_sleep": announce,
            "reraise": True,
        }

    def sync(self, message: Message, log: logging.Logger | None = None) -> Retrying:
        return Retrying(**self._settings(message, log))

    def asynchronous(self, message: Message, log: logging.Logger | None = None) -> AsyncRetrying:
        return AsyncRetrying(**self._settings(message, log))

    @staticmethod
    def final_error(message: Message, error: TransientError, attempts: int, where: str) -> JobsUnavailableError:
        """The error a task fails with once retrying is over; says why it stopped and what to do."""
        if not message.replayable and error.reached_server:
            return JobStartUncertainError(
                f"{message.describe_at(where)} failed ({error.reason}) after the server may have received it"
                + message.uncertain_advice
            )
        return JobsUnavailableError(
            f"{message.describe_at(where)} failed {attempts} time(s) (last error: {error.reason}); "
            + (error.hint or message.unavailable_advice)
        )


def send(policy: RetryPolicy, message: Message, send_once: Callable[[], ReplyT], where: str) -> ReplyT:
    """``send_once()`` under the policy, from a worker; raises the final error when retrying is over."""
    retrying = policy.sync(message, log)
    try:
        for attempt in retrying:
            with attempt:
                return send_once()
    except TransientError as error:
        attempts = retrying.statistics.get("attempt_number", 1)
        raise policy.final_error(message, error, attempts, where) from None
    raise AssertionError("unreachable: tenacity returns or raises")


async def asend(
    policy: RetryPolicy, message: Message, send_once: Callable[[], Awaitable[ReplyT]], where: str
) -> ReplyT:
    """The async twin of ``send``, for the triggerer.

    The first attempt runs without tenacity: building a retrying object per request leaves a
    cycle of ~50 objects for the garbage collector, which at 10,000 watches costs more CPU than
    the request itself. Only a failed first attempt enters the retry loop.
    """
    started = time.monotonic()
    try:
        return await send_once()
    except TransientError as error:
        first_failure: TransientError | None = error
    retrying = policy.asynchronous(message, log)
    try:
        async for attempt in retrying:
            with attempt:
                if first_failure is not None:  # attempt 1 is the one already made: replay its outcome
                    attempt.retry_state.start_time = started  # the time budget counts from it
                    failure, first_failure = first_failure, None
                    raise failure
                return await send_once()
    except TransientError as error:
        attempts = retrying.statistics.get("attempt_number", 1)
        raise policy.final_error(message, error, attempts, where) from None
    raise AssertionError("unreachable: tenacity returns or raises")
