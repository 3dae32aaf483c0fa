"""The one way the tests wait: poll until a value is accepted, or fail at a deadline.

Waits are bounded by deadlines instead of fixed sleeps: a slow machine only makes a test
slower, never wrong. ``poll_until`` blocks (a test thread, a DAG run, a live deployment);
``apoll_until`` sleeps on the event loop, so the triggers under test keep running while it waits.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class PollTimeout(AssertionError):
    """The value was not accepted before the deadline; says what was awaited and the last value seen."""


def poll_until(
    probe: Callable[[], T],
    accept: Callable[[T], object] = bool,
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
    what: str = "the condition",
    describe: Callable[[T], object] | None = None,
) -> T:
    """Call ``probe`` until ``accept`` holds for its value (by default: the value is truthy); return that value.

    Fails with ``PollTimeout`` naming ``what`` and the last value (``describe(value)`` if given,
    else its repr cut at 300 characters) once ``timeout`` seconds have passed. An exception from
    ``probe`` or ``accept`` fails at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise _timed_out(what, timeout, value, describe)
        time.sleep(interval)


async def apoll_until(
    probe: Callable[[], T] | Callable[[], Awaitable[T]],
    accept: Callable[[T], object] = bool,
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
    what: str = "the condition",
    describe: Callable[[T], object] | None = None,
) -> T:
    """``poll_until`` for a test running on the event loop; ``probe`` may be a plain or an async callable."""
    deadline = time.monotonic() + timeout
    while True:
        value: Any = probe()
        if inspect.isawaitable(value):
            value = await value
        if accept(value):
            return value  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise _timed_out(what, timeout, value, describe)
        await asyncio.sleep(interval)


def _timed_out(what: str, timeout: float, value: Any, describe: Callable[[Any], object] | None) -> PollTimeout:
    last = describe(value) if describe is not None else repr(value)[:300]
    return PollTimeout(f"timed out after {timeout:g}s waiting for {what} (last: {last})")
