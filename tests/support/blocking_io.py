"""The no-blocking-I/O guard the trigger tests run a trigger under (a pytest plugin: see tests/conftest.py).

A trigger shares the triggerer's event loop with every other trigger, so one blocking call stalls
them all. Inside the guard, the blocking calls a transport could make fail the test, and asyncio's
debug mode records every callback that held the loop too long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from airflow_jobs_provider.version_compat import AIRFLOW_V_3_1_PLUS

FORBIDDEN = AssertionError("blocking call on the triggerer's event loop")
SLOW_CALLBACK = 0.1
"""Seconds a callback may hold the loop before asyncio's debug mode logs it ("Executing ... took")."""

BlockingIoGuard = Callable[..., contextlib.AbstractContextManager[list[str]]]


def forbid_sync_connection_lookup_on_the_loop(mocker: Any) -> None:
    """Fail the test if the trigger resolves its connection with the blocking lookup on the loop.

    Airflow 3.1+ has BaseHook.aget_connection, so the sync lookup must not be called at all. Airflow
    2.11 and 3.0 have no async lookup: the hook runs the sync one in a worker thread, which is allowed.
    """
    from airflow.providers.common.compat.sdk import BaseHook

    forbidden = AssertionError("blocking connection lookup on the triggerer's event loop")
    if AIRFLOW_V_3_1_PLUS:
        mocker.patch.object(BaseHook, "get_connection", side_effect=forbidden)
        return
    lookup = BaseHook.get_connection

    def off_the_loop_only(conn_id: str) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a worker thread: no loop to block
            return lookup(conn_id)
        raise forbidden

    mocker.patch.object(BaseHook, "get_connection", side_effect=off_the_loop_only)


@pytest.fixture
def no_blocking_io(mocker: Any) -> BlockingIoGuard:
    """``with no_blocking_io(*also) as slow:`` run a trigger with blocking I/O forbidden on the loop.

    Forbidden for the rest of the test: ``requests``, ``time.sleep``, the sync connection lookup,
    and each ``(owner, attribute)`` in ``also`` (e.g. ``(socket, "create_connection")``). Patch
    only once the test has done its own blocking set-up. For the block, the running loop is in
    debug mode and ``slow`` collects asyncio's log lines (a slow callback's contains "took").
    """

    @contextlib.contextmanager
    def guard(*also: tuple[object, str]) -> Iterator[list[str]]:
        for owner, name in ((requests.Session, "request"), (time, "sleep"), *also):
            mocker.patch.object(owner, name, side_effect=FORBIDDEN)
        forbid_sync_connection_lookup_on_the_loop(mocker)
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = SLOW_CALLBACK
        slow: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: slow.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger("asyncio").addHandler(handler)
        try:
            yield slow
        finally:
            logging.getLogger("asyncio").removeHandler(handler)
            loop.set_debug(False)

    return guard
